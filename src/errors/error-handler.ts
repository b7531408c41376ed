// Maps every error to one application/problem+json body; 5xx details go to the log, never the client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './app-error.js';
import { infraOutageProblem } from '../db/infra-errors.js';
import { oceanProblem } from '../ocean/chain-outage.js';
import { ERROR_CATALOG, type ErrorCode, isRetryable, problemType } from './error-catalog.js';

function validationField(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const where = err.validationContext ?? 'body';
  const params = first.params as { missingProperty?: string; additionalProperty?: string };
  const named = params.missingProperty ?? params.additionalProperty;
  const path = first.instancePath
    .split('/')
    .filter(Boolean)
    .concat(named !== undefined ? [named] : []);
  return [where, ...path].join('.');
}

export function fromFastifyError(err: FastifyError): AppError {
  if (err.validation) {
    const field = validationField(err);
    const first = err.validation[0];
    const unknown = first?.keyword === 'additionalProperties';
    const message = unknown ? 'is not a known field' : (first?.message ?? 'is invalid');
    return new AppError('validation_failed', `${field ?? 'request'} ${message}`, { field });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'request body is larger than the allowed limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid_request', 'the URL is not valid: check its percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('uri_too_long', 'a path parameter is longer than allowed');
  }
  const status = err.statusCode ?? 500;
  if (status === 400) return new AppError('invalid_request', err.message);
  if (status >= 400 && status < 500) {
    const code = (Object.keys(ERROR_CATALOG) as ErrorCode[]).find((c) => ERROR_CATALOG[c].status === status);
    return new AppError(code ?? 'invalid_request', err.message);
  }
  return new AppError('internal', 'an unexpected error occurred', { cause: err });
}

/** The problem+json body of an error; raw socket answers (clientErrorHandler) use it too. */
export function problemBody(error: AppError, requestId: string) {
  const internal = error.status >= 500 && error.code === 'internal';
  return {
    type: problemType(error.code),
    title: ERROR_CATALOG[error.code].title,
    status: error.status,
    detail: internal ? 'an unexpected error occurred; quote the requestId when reporting it' : error.message,
    code: error.code,
    retryable: isRetryable(error.code),
    requestId,
    ...(error.field ? { field: error.field } : {}),
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.status).type('application/problem+json').send(problemBody(error, String(request.id)));
}

export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
      const error = err instanceof AppError ? err : (oceanProblem(err) ?? infraOutageProblem(err) ?? fromFastifyError(err as FastifyError));
      if (error.status >= 500) request.log.error({ err: err instanceof AppError ? (err.cause ?? err) : err }, 'request failed');
      return sendProblem(request, reply, error);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'error-handler' },
);
