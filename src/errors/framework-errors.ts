// Fastify answers some errors before any route or error handler runs: a malformed URL, an over-long
// path parameter, and (straight on the socket) oversized headers or a broken request line. These
// options route them into the same problem+json body as every other error.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyServerOptions } from 'fastify';
import { AppError } from './app-error.js';
import { fromFastifyError, problemBody, sendProblem } from './error-handler.js';
import { sendOpenAIError } from '../openai/openai-errors.js';

/** What the socket-level handler answers, by Node's parser error code. */
function clientError(err: NodeJS.ErrnoException): AppError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('header_fields_too_large', 'the request line and headers are larger than the server accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('request_timeout', 'the request was not received in time');
    default:
      return new AppError('invalid_request', 'the request is not valid HTTP');
  }
}

export function frameworkErrorOptions(): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    frameworkErrors: (err, request, reply) => {
      reply.header('X-Request-Id', String(request.id));
      // The OpenAI-compatible routes answer in OpenAI's error shape even before routing.
      if (request.url.startsWith('/openai/')) return sendOpenAIError(request, reply, fromFastifyError(err as FastifyError));
      return sendProblem(request, reply, fromFastifyError(err as FastifyError));
    },
    clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
      // A reset connection has no one left to answer (as Fastify's default handler).
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const requestId = randomUUID();
      const error = clientError(err);
      const body = JSON.stringify(problemBody(error, requestId));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/problem+json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
  };
}
