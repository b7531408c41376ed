// Limits for public routes that no API key meters (the transparency log, receipt verification):
// the same GCRA limiter, keyed by the client's address. Behind a proxy every client shares the
// proxy's address unless Fastify is told to trust X-Forwarded-For.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';

const WINDOW_MS = 60_000;

/** An onRequest hook allowing `limitPerMinute` requests per client address to `bucket` (0 = off). */
export function clientRateLimit(app: FastifyInstance, bucket: string, limitPerMinute: number) {
  return async function limitClient(request: FastifyRequest, reply: FastifyReply) {
    if (limitPerMinute === 0) return;
    const decision = await app.rateLimiter.hit(`ip:${bucket}:${request.ip}`, limitPerMinute, WINDOW_MS).catch((err) => {
      // A limiter outage must not take the public log down with it: fail open, loudly.
      request.log.warn({ err }, 'rate limiter unavailable; request allowed');
      return null;
    });
    if (!decision) return;
    reply.header('RateLimit-Limit', String(limitPerMinute));
    reply.header('RateLimit-Remaining', String(decision.remaining));
    if (!decision.allowed) {
      throw new AppError('rate_limited', `limit of ${limitPerMinute} requests per minute per client reached`, {
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
      });
    }
  };
}
