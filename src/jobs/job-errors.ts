// What a client may read about a failed job: a stable code and a sentence written here. Library,
// database and RPC error text (SQL, parameters, hosts) goes to the log with the job id, never to the job.

/** Codes whose messages are written by this project from public facts (token counts, order checks). */
const AUTHORED_MESSAGES = new Set([
  'invalid_order',
  'order_missing',
  'weights_not_registered',
  'weights_mismatch',
  'context_length_exceeded',
  'invalid_parameter',
  'dataset_too_small',
  'model_revoked',
  'model_inactive',
  'weights_changed',
  'order_reorged',
  'order_unconfirmed',
]);

/** Every code a failed job can carry, with the sentence shown when the error's own text is not safe. */
export const JOB_FAILURE_MESSAGES: Record<string, string> = {
  order_failed: 'the Ocean order paying for this job could not be placed; nothing was charged',
  invalid_order: 'the Ocean order for this job did not pass validation; nothing was charged',
  order_missing: 'the job has no Ocean order; nothing was charged',
  weights_not_registered: 'the weights are not registered on chain for this model; nothing was charged',
  weights_mismatch: 'the stored weights do not match their registered sha256; nothing was charged',
  context_length_exceeded: 'the input does not fit the model context',
  invalid_parameter: 'a decoding parameter is invalid',
  model_load_failed: 'the model could not be loaded; nothing was charged',
  engine_unavailable: 'no runtime could serve this model; nothing was charged',
  rpc_unavailable: 'the chain could not be reached; nothing was charged',
  worker_error: 'the worker could not run this job; nothing was charged',
  worker_lost: 'the job was lost by its workers too many times; nothing was charged',
  model_not_on_chain: "the model's datatoken is not on chain; the model is being published again; nothing was charged",
  model_not_trainable: 'the parent model cannot be fine-tuned here (its weights are not in the layout the trainer reads); nothing was charged',
  model_name_taken: 'the new model id was taken by another model while this job trained; nothing was charged',
  dataset_unavailable: 'a dataset of this job could not be read or no longer matches its sha256; nothing was charged',
  dataset_too_small: 'the training data holds fewer than 2 tokens; nothing was charged',
  model_revoked: "the model's Ocean asset is revoked on chain; it no longer serves; nothing was charged",
  model_inactive: "the model's Ocean asset is deprecated, at end of life or closed to orders on chain; it no longer serves; nothing was charged",
  weights_changed: 'the weights sha256 registered on chain for this model changed; these weights no longer serve; nothing was charged',
  order_reorged: 'the Ocean order paying for this job was removed from the chain by a reorg; nothing was charged',
  order_unconfirmed: 'the Ocean order paying for this job never reached the confirmations the chain needs; nothing was charged',
  compute_node_unavailable: 'the Ocean compute node serving this model could not be reached; nothing was charged',
  compute_node_refused: 'the Ocean compute node serving this model refused the job, or its payment terms were refused; nothing was charged',
  compute_node_start_unknown: "the Ocean compute node did not answer the job's start; any payment it locked is refunded after expiry; nothing was charged",
  compute_node_job_failed: 'the job failed on the Ocean compute node serving this model; nothing was charged',
};

export interface PublicJobError {
  code: string;
  message: string;
}

/** The client-facing form of a job failure with this `code` and internal `message`. */
export function publicJobError(code: string, message: string): PublicJobError {
  if (AUTHORED_MESSAGES.has(code)) return { code, message };
  // A code outside the catalog (a library's, say) is a worker error to the client; the log has it.
  if (!(code in JOB_FAILURE_MESSAGES)) return { code: 'worker_error', message: JOB_FAILURE_MESSAGES.worker_error };
  return { code, message: JOB_FAILURE_MESSAGES[code] };
}

/** The closed set of `error.code` values a job can show (an enum in the OpenAPI document). */
export const JOB_FAILURE_CODES = Object.keys(JOB_FAILURE_MESSAGES);
