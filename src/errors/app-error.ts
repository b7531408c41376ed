// The single error type of the service: a stable code, its status from the catalog, and safe details.
import { ERROR_CATALOG, type ErrorCode } from './error-catalog.js';

export interface AppErrorOptions {
  /** Request field the error is about, e.g. "body.amount". */
  field?: string;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CATALOG[code].status;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
