// OpenAI response objects (completion, chat completion, their stream chunks) built from a native job.
import type { JobRow } from '../jobs/job-repository.js';
import type { ReceiptRef } from '../receipts/receipt-lookup.js';
import { finishReason } from './completion-request.js';

export type Flavour = 'completion' | 'chat';

export function jobOutput(job: JobRow): string {
  const output = (job.result as { output?: unknown } | null)?.output;
  return typeof output === 'string' ? output : '';
}

/** What every object of one answer shares: id, created, model, fingerprint. */
export function envelope(job: JobRow, flavour: Flavour) {
  return {
    id: `${flavour === 'chat' ? 'chatcmpl' : 'cmpl'}-${job.id}`,
    created: Math.floor(job.createdAt.getTime() / 1000),
    model: job.modelId,
    system_fingerprint: `fp_${job.weightsSha256.slice(0, 12)}`,
  };
}

export function usage(job: JobRow) {
  const completion = job.outputTokens ?? 0;
  return { prompt_tokens: job.inputTokens, completion_tokens: completion, total_tokens: job.inputTokens + completion };
}

export function posthumanBlock(job: JobRow, receipt: ReceiptRef | undefined) {
  return {
    job_id: job.id,
    weights_sha256: job.weightsSha256,
    cost: job.cost === null ? null : Number(job.cost),
    receipt: receipt ? { id: receipt.receiptId, log_index: receipt.logIndex, jws: receipt.jws } : null,
  };
}

export function completionView(job: JobRow, receipt: ReceiptRef | undefined, flavour: Flavour) {
  const reason = finishReason((job.result as { finish_reason?: unknown } | null)?.finish_reason);
  const text = jobOutput(job);
  const choice =
    flavour === 'chat'
      ? { index: 0, message: { role: 'assistant' as const, content: text, refusal: null }, logprobs: null, finish_reason: reason }
      : { text, index: 0, logprobs: null, finish_reason: reason };
  return {
    ...envelope(job, flavour),
    object: flavour === 'chat' ? ('chat.completion' as const) : ('text_completion' as const),
    choices: [choice],
    usage: usage(job),
    posthuman: posthumanBlock(job, receipt),
  };
}

/** One streamed chunk holding `text` (and the finish reason on the last one). */
export function chunk(job: JobRow, flavour: Flavour, delta: { text?: string; role?: boolean; finish?: 'stop' | 'length' }, includeUsage: boolean) {
  const finish_reason = delta.finish ?? null;
  const choice =
    flavour === 'chat'
      ? {
          index: 0,
          delta: { ...(delta.role ? { role: 'assistant' } : {}), ...(delta.text !== undefined ? { content: delta.text } : {}) },
          logprobs: null,
          finish_reason,
        }
      : { text: delta.text ?? '', index: 0, logprobs: null, finish_reason };
  return {
    ...envelope(job, flavour),
    object: flavour === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    choices: [choice],
    ...(includeUsage ? { usage: null } : {}),
  };
}
