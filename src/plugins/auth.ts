// Authenticates every request by its route's `config.auth`: the operator token or an API key; routes
// with `config.session` also take a wallet session token (a JWT from POST /v1/auth/siwe/verify).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { apiKeyMatches, parseApiKey, secretsEqual } from '../accounts/api-key-secret.js';
import type { Scope } from '../accounts/scopes.js';
import type { AuthMode, Principal } from '../accounts/principal.js';
import { AppError } from '../errors/app-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    scope?: Scope;
    /** A wallet session token is accepted too (it acts as the account's owner: every scope). */
    session?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const RATE_WINDOW_MS = 60_000;

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new AppError('unauthorized', 'send Authorization: Bearer <token>');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

export default fp(
  async function auth(app: FastifyInstance, opts: { operatorToken: string }) {
    app.decorateRequest('principal', null);

    app.addHook('onRequest', async (request, reply) => {
      const mode = request.routeOptions.config.auth ?? 'none';
      if (mode === 'none' || (mode === 'key-optional' && request.headers.authorization === undefined)) return;
      const token = bearer(request);
      if (mode === 'operator') {
        if (!secretsEqual(token, opts.operatorToken)) throw new AppError('unauthorized', 'invalid operator token');
        request.principal = { kind: 'operator' };
        return;
      }
      if (request.routeOptions.config.session && app.hasDecorator('walletSessions') && app.walletSessions.isSessionToken(token)) {
        request.principal = await app.walletSessions.authenticate(token);
        return;
      }
      const parsed = parseApiKey(token);
      const row = parsed ? await app.accountRepository.findKeyByPrefix(parsed.prefix) : undefined;
      // The hash is compared even when the key is revoked, so timing does not reveal which keys exist.
      if (!row || !apiKeyMatches(token, row.keyHash) || row.revokedAt) {
        throw new AppError('unauthorized', 'invalid or revoked API key');
      }
      const scope = request.routeOptions.config.scope;
      if (scope && !row.scopes.includes(scope)) {
        throw new AppError('forbidden', `this API key lacks the "${scope}" scope`);
      }
      if (row.rateLimitPerMinute !== null) {
        const decision = await app.rateLimiter.hit(`key:${row.id}`, row.rateLimitPerMinute, RATE_WINDOW_MS).catch((err) => {
          // A limiter outage must not take the API down with it: fail open, loudly.
          request.log.warn({ err }, 'rate limiter unavailable; request allowed');
          return null;
        });
        if (decision) {
          reply.header('RateLimit-Limit', String(row.rateLimitPerMinute));
          reply.header('RateLimit-Remaining', String(decision.remaining));
          if (!decision.allowed) {
            throw new AppError('rate_limited', `limit of ${row.rateLimitPerMinute} requests per minute reached`, {
              headers: { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
            });
          }
        }
      }
      request.principal = {
        kind: 'key',
        accountId: row.accountId,
        keyId: row.id,
        scopes: row.scopes,
        spendCap: row.spendCap,
      };
    });
  },
  { name: 'auth', dependencies: ['services'] },
);
