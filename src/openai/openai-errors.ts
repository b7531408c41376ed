// Errors of the OpenAI-compatible routes in OpenAI's shape ({ error: { message, type, param, code } }),
// mapped from the same AppError every native route throws, so statuses and codes stay one list.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { fromFastifyError } from '../errors/error-handler.js';
import { infraOutageProblem } from '../db/infra-errors.js';
import { chainOutageProblem } from '../ocean/chain-outage.js';
import { errorResponses } from '../http/schemas.js';
import { OpenAIErrorBody } from './openai-schemas.js';

const TYPES: Record<number, string> = {
  401: 'authentication_error',
  402: 'insufficient_quota',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout',
  429: 'rate_limit_error',
};

/** Native field names (the job the request became) back to the OpenAI request's own. */
const PARAMS: Array<[RegExp, string]> = [
  [/^body\.parameters\.max_new_tokens$/, 'max_tokens'],
  [/^body\.parameters\.(\w+)/, '$1'],
  [/^body\.input$/, 'prompt'],
  [/^body\.model_sha256$/, 'model'],
  [/^body\.(.+)$/, '$1'],
];

export function openaiParam(field: string | undefined, chat: boolean): string | null {
  if (!field) return null;
  for (const [pattern, to] of PARAMS) {
    if (pattern.test(field)) {
      const param = field.replace(pattern, to);
      return chat && param === 'prompt' ? 'messages' : param;
    }
  }
  return field;
}

export interface OpenAIErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}

export function openaiError(error: AppError, chat: boolean): OpenAIErrorAnswer {
  const internal = error.status >= 500 && error.code === 'internal';
  return {
    status: error.status,
    headers: error.headers,
    body: {
      error: {
        message: internal ? 'an unexpected error occurred; quote the X-Request-Id header when reporting it' : error.message,
        type: TYPES[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error'),
        param: openaiParam(error.field, chat),
        code: error.code,
      },
    },
  };
}

export function sendOpenAIError(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const answer = openaiError(error, request.url.includes('/chat/'));
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
  return reply.code(answer.status).type('application/json').send(answer.body);
}

/** This scope's error and not-found handlers: the native ones, answered in OpenAI's shape. */
export function useOpenAIErrors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    const error = err instanceof AppError ? err : (chainOutageProblem(err) ?? infraOutageProblem(err) ?? fromFastifyError(err as FastifyError));
    if (error.status >= 500) request.log.error({ err: err instanceof AppError ? (err.cause ?? err) : err }, 'request failed');
    return sendOpenAIError(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    sendOpenAIError(request, reply, new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/** The error responses of an OpenAI-compatible route: the native statuses, in OpenAI's shape. */
export function openaiErrorResponses(statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const [status, native] of Object.entries(errorResponses(statuses))) {
    out[Number(status)] = {
      description: (native as { description: string }).description.replace('(the `field` names what is wrong)', '(`param` names what is wrong)'),
      content: { 'application/json': { schema: OpenAIErrorBody } },
    };
  }
  return out;
}
