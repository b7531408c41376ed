// The one list of error codes the API can answer with, each tied to its HTTP status and title.
export const ERROR_CATALOG = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  invalid_request: { status: 400, title: 'Invalid request' },
  archive_invalid: { status: 400, title: 'Unreadable model archive' },
  archive_too_large: { status: 400, title: 'Model archive unpacks too large' },
  archive_too_many_entries: { status: 400, title: 'Model archive has too many entries' },
  archive_file_too_large: { status: 400, title: 'File in the model archive too large' },
  archive_entry_refused: { status: 400, title: 'Model archive entry refused' },
  archive_unexpected_file: { status: 400, title: 'File not part of a model folder' },
  model_rejected: { status: 400, title: 'Model refused' },
  key_limit_exceeds_parent: { status: 400, title: 'Key limit exceeds the creating key' },
  unauthorized: { status: 401, title: 'Missing or invalid credentials' },
  insufficient_credit: { status: 402, title: 'Insufficient credit' },
  spend_cap_exceeded: { status: 402, title: 'API key spend cap exceeded' },
  forbidden: { status: 403, title: 'Not allowed' },
  scope_exceeds_parent: { status: 403, title: 'Scope not held by the creating key' },
  not_found: { status: 404, title: 'Not found' },
  dataset_not_found: { status: 404, title: 'Dataset not found' },
  request_timeout: { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  model_exists: { status: 409, title: 'Model id taken' },
  rotation_in_progress: { status: 409, title: 'A key rotation is already in progress' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with another request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  header_fields_too_large: { status: 431, title: 'Request header fields too large' },
  too_many_streams: { status: 429, title: 'Too many open event streams' },
  internal: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  no_workers: { status: 503, title: 'No worker is running this kind of job' },
  model_not_on_chain: { status: 503, title: 'Model not on chain (being published again)' },
  chain_unavailable: { status: 503, title: 'Chain unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/**
 * Whether the same request may succeed later unchanged: rate limits, timeouts and outages (a
 * dependency down, no worker, the chain unreachable). Everything else needs a different request.
 * Domain failures map onto these codes: chain (src/ocean/chain-outage.ts), database and queue
 * (src/db/infra-errors.ts), jobs (src/jobs/job-errors.ts, shown inside a job), ledger
 * (`insufficient_credit`, `spend_cap_exceeded`), runtime (`model_rejected`).
 */
export function isRetryable(code: ErrorCode): boolean {
  const status: number = ERROR_CATALOG[code].status;
  return status === 408 || status === 429 || status === 503;
}

export function problemType(code: ErrorCode): string {
  return `https://posthuman.dev/problems/${code.replaceAll('_', '-')}`;
}
