// Maps every error to one application/problem+json body; 5xx details go to the log, never the client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './app-error.js';
import { ERROR_CATALOG, type ErrorCode, problemType } from './error-catalog.js';

function validationField(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const where = err.validationContext ?? 'body';
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  const path = first.instancePath
    .split('/')
    .filter(Boolean)
    .concat(missing ? [missing] : []);
  return [where, ...path].join('.');
}

function fromFastifyError(err: FastifyError): AppError {
  if (err.validation) {
    const field = validationField(err);
    const message = err.validation[0]?.message ?? 'is invalid';
    return new AppError('validation_failed', `${field ?? 'request'} ${message}`, { field });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'request body is larger than the allowed limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'send the body as application/json');
  }
  const status = err.statusCode ?? 500;
  if (status === 400) return new AppError('invalid_request', err.message);
  if (status >= 400 && status < 500) {
    const code = (Object.keys(ERROR_CATALOG) as ErrorCode[]).find((c) => ERROR_CATALOG[c].status === status);
    return new AppError(code ?? 'invalid_request', err.message);
  }
  return new AppError('internal', 'an unexpected error occurred', { cause: err });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const { title } = ERROR_CATALOG[error.code];
  const internal = error.status >= 500 && error.code === 'internal';
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send({
      type: problemType(error.code),
      title,
      status: error.status,
      detail: internal ? 'an unexpected error occurred; quote the requestId when reporting it' : error.message,
      code: error.code,
      requestId: String(request.id),
      ...(error.field ? { field: error.field } : {}),
    });
}

export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
      const error = err instanceof AppError ? err : fromFastifyError(err as FastifyError);
      if (error.status >= 500) request.log.error({ err: err instanceof AppError ? (err.cause ?? err) : err }, 'request failed');
      return sendProblem(request, reply, error);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'error-handler' },
);
