// Turns an OpenAI completion or chat request into the native infer job it runs as: the same
// parameters /v1/infer takes, so pricing, holds, orders and receipts are the native ones.
import { AppError } from '../errors/app-error.js';
import type { InferRequest } from '../jobs/job-requests.js';
import { CHAT_STOP, renderChatPrompt, type ChatMessage } from './chat-template.js';
import type { ChatCompletionRequest, CompletionRequest } from './openai-schemas.js';

/** OpenAI's default for /v1/completions. */
export const COMPLETION_DEFAULT_MAX_TOKENS = 16;
/** The most tokens a chat answer gets when max_tokens is not sent (less when the context is full). */
export const CHAT_DEFAULT_MAX_TOKENS = 4096;

function refuseUnsupported(body: Record<string, unknown>) {
  const refusals: Array<[string, (v: unknown) => boolean, string]> = [
    ['tools', (v) => Array.isArray(v) && v.length > 0, 'tool calling is not supported'],
    ['functions', (v) => Array.isArray(v) && v.length > 0, 'function calling is not supported'],
    ['logit_bias', (v) => v !== null && typeof v === 'object' && Object.keys(v).length > 0, 'logit_bias is not supported'],
    ['top_logprobs', (v) => typeof v === 'number' && v > 0, 'log probabilities are not returned'],
    ['suffix', (v) => typeof v === 'string' && v.length > 0, 'suffix (insertion) is not supported'],
  ];
  for (const [name, refused, why] of refusals) {
    if (body[name] !== undefined && body[name] !== null && refused(body[name])) throw new AppError('invalid_request', why, { field: `body.${name}` });
  }
}

function stops(stop: CompletionRequest['stop']): string[] {
  if (stop === undefined || stop === null) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

function parameters(body: CompletionRequest | ChatCompletionRequest, maxNewTokens: number, extraStops: string[]): InferRequest['parameters'] {
  const stop = [...stops(body.stop), ...extraStops];
  return {
    max_new_tokens: maxNewTokens,
    temperature: body.temperature ?? 1,
    ...(body.top_p !== undefined && body.top_p !== null ? { top_p: body.top_p } : {}),
    seed: body.seed ?? 0,
    ...(stop.length > 0 ? { stop } : {}),
  };
}

export function completionJob(body: CompletionRequest): InferRequest {
  refuseUnsupported(body as Record<string, unknown>);
  const input = typeof body.prompt === 'string' ? body.prompt : body.prompt[0];
  if (input.length === 0) throw new AppError('validation_failed', 'prompt must not be empty', { field: 'body.prompt' });
  return { input, parameters: parameters(body, body.max_tokens ?? COMPLETION_DEFAULT_MAX_TOKENS, []) };
}

/**
 * `room(prompt)`: tokens left in the model's context after the prompt (undefined when the model is
 * unknown; the job path then answers 404), the default max_tokens when none is sent.
 */
export function chatJob(body: ChatCompletionRequest, room: (prompt: string) => number | undefined): InferRequest {
  refuseUnsupported(body as Record<string, unknown>);
  const input = renderChatPrompt(body.messages as ChatMessage[]);
  const asked = body.max_completion_tokens ?? body.max_tokens;
  const maxNewTokens = asked ?? Math.max(1, Math.min(CHAT_DEFAULT_MAX_TOKENS, room(input) ?? 1));
  return { input, parameters: parameters(body, maxNewTokens, CHAT_STOP) };
}

/** Native finish reasons to OpenAI's: a stop sequence, end of text and a cancel all read as `stop`. */
export function finishReason(native: unknown): 'stop' | 'length' {
  return native === 'length' ? 'length' : 'stop';
}
