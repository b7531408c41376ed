// The chat template of models that carry none (every GPT-2-family base model here): messages become
// one plain-text prompt, and the model is stopped before it writes the next turn. The README
// documents it, so a verifier can rebuild the exact input a chat job's receipt hashes.
import { AppError } from '../errors/app-error.js';

export interface ChatMessage {
  role: string;
  content?: string | Array<{ type: string; text?: string }> | null;
  name?: string;
}

const SPEAKERS: Record<string, string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' };

/** Stop sequences added to every chat job: the model's answer ends where it would start a new turn. */
export const CHAT_STOP = ['\nUser:', '\nSystem:'];

function text(message: ChatMessage, i: number): string {
  const { content } = message;
  if (content === undefined || content === null) {
    if (message.role === 'assistant') return '';
    throw new AppError('validation_failed', 'a message needs content', { field: `body.messages[${i}].content` });
  }
  if (typeof content === 'string') return content;
  return content
    .map((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw new AppError('validation_failed', `only text content parts are supported, not "${part.type}"`, {
          field: `body.messages[${i}].content[${j}]`,
        });
      }
      return part.text;
    })
    .join('');
}

/**
 * `System: …`, `User: …` and `Assistant: …` lines (developer messages count as system), one per
 * message in order, then `Assistant:` for the model to continue. Tool and function messages are
 * refused: these models cannot call tools.
 */
export function renderChatPrompt(messages: ChatMessage[]): string {
  if (messages.length === 0) throw new AppError('validation_failed', 'messages must hold at least one message', { field: 'body.messages' });
  const lines = messages.map((m, i) => {
    const speaker = SPEAKERS[m.role];
    if (!speaker) {
      throw new AppError('validation_failed', `role "${m.role}" is not supported (system, developer, user, assistant)`, {
        field: `body.messages[${i}].role`,
      });
    }
    return `${speaker}: ${text(m, i)}\n`;
  });
  return `${lines.join('')}Assistant:`;
}
