// Infrastructure faults (a Postgres connection terminated or refused, Redis away): nobody's fault
// and gone on retry. A job is never failed for one, and a request broken by one answers 503.
import { AppError } from '../errors/app-error.js';

const TRANSIENT_PG_CODES = /^(08|57P0[1-3]|53300|40001|40P01)/;
const TRANSIENT_MESSAGES =
  /Connection terminated|connection (?:is )?(?:closed|ended)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|timeout exceeded when trying to connect|Client has encountered a connection error|Stream isn't writeable|MaxRetriesPerRequest/i;

/** True for a connection-level Postgres or Redis fault anywhere in the cause chain. */
export function isTransientInfraError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_PG_CODES.test(code)) return true;
    if (e instanceof Error && TRANSIENT_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** The 503 a request broken by an infrastructure fault answers with, or null for any other error. */
export function infraOutageProblem(err: unknown): AppError | null {
  if (!isTransientInfraError(err)) return null;
  return new AppError('service_unavailable', 'a database or queue connection failed; retry shortly (with the same Idempotency-Key, nothing is done twice)', {
    headers: { 'Retry-After': '1' },
    cause: err,
  });
}
