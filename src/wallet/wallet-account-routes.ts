// The calling account's deposits and payouts: by API key or wallet session.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { Type } from 'typebox';
import { accountPrincipal } from '../accounts/principal.js';
import type { Db } from '../db/database.js';
import { AppError, notFound } from '../errors/app-error.js';
import { requestFingerprint, withIdempotency } from '../http/idempotency.js';
import { BODY_ERRORS, errorResponses, IdempotencyHeaders, IdParams, KEY_AUTH_ERRORS, MicroCreditsIn, Page, PageQuery, toMicroCredits } from '../http/schemas.js';
import { DepositSchema, depositView, PayoutSchema, payoutView } from './wallet-views.js';
import { accountWallets, walletDeposits, walletPayouts } from './wallet-schema.js';

const security: Record<string, string[]>[] = [{ apiKey: [] }, { walletSession: [] }];

const POSTGRES_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** Keyset paging newest first on (timestamp, id); the cursor keeps the timestamp to the microsecond. */
export function keysetCursor(at: string, id: string) {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

export function keysetAfter(cursor: string | undefined, at: PgColumn, id: PgColumn): SQL | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const ok = Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && POSTGRES_TIME.test(parsed[0]) && /^[0-9a-f-]{36}$/.test(String(parsed[1]));
  if (!ok) throw new AppError('validation_failed', 'cursor is not one this API returned', { field: 'querystring.cursor' });
  const [when, last] = parsed as [string, string];
  return sql`(${at}, ${id}) < (${when}::timestamptz, ${last}::uuid)`;
}

/** A newest-first page of the deposits matching `filter`, confirmations counted against the watcher's last head. */
export async function depositPage(
  db: Db,
  filter: SQL | undefined,
  query: { limit?: number; cursor?: string },
  deposits: { lastHead(): Promise<number | null> },
  chain: Parameters<typeof depositView>[1],
) {
  const limit = query.limit ?? 50;
  const rows = await db
    .select({ row: walletDeposits, at: sql<string>`${walletDeposits.seenAt}::text` })
    .from(walletDeposits)
    .where(and(filter, keysetAfter(query.cursor, walletDeposits.seenAt, walletDeposits.id)))
    .orderBy(desc(walletDeposits.seenAt), desc(walletDeposits.id))
    .limit(limit + 1);
  const head = await deposits.lastHead();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page.map((r) => depositView(r.row, chain, head)), next_cursor: rows.length > limit ? keysetCursor(last.at, last.row.id) : null };
}

const unavailable = () =>
  new AppError('chain_unavailable', 'this gateway takes no payments on chain (CHAIN=off, or no treasury key is configured)', { headers: { 'Retry-After': '60' } });

const walletAccountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { wallet } = app;

  app.get(
    '/v1/account/deposits',
    {
      config: { auth: 'key', session: true },
      schema: {
        operationId: 'listAccountDeposits',
        tags: ['wallet'],
        summary: 'Deposits from this account\'s bound address: pending (with confirmations so far) and confirmed',
        description: 'Newest first. Pending deposits are those seen on chain but not yet confirmed; `credited` ones are in the ledger (kind `deposit`, the tx hash in its reason).',
        security,
        querystring: PageQuery,
        response: { 200: Page(DepositSchema, 'DepositPage'), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      const chain = wallet.chain;
      const deposits = wallet.deposits;
      if (!chain || !deposits) return { data: [], next_cursor: null };
      const [bound] = await app.db.select().from(accountWallets).where(eq(accountWallets.accountId, accountId));
      const mine = bound ? or(eq(walletDeposits.accountId, accountId), eq(walletDeposits.fromAddress, bound.address)) : eq(walletDeposits.accountId, accountId);
      return depositPage(app.db, mine, request.query, deposits, chain);
    },
  );

  app.post(
    '/v1/account/payouts',
    {
      config: { auth: 'key', session: true },
      schema: {
        operationId: 'createPayout',
        tags: ['wallet'],
        summary: 'Withdraw earnings to this account\'s bound address, in OCEAN',
        description:
          'Holds `amount` micro-credits of the account\'s earnings (402 when they do not cover it; concurrent requests never ' +
          'hold more than there is) and queues an OCEAN transfer from the treasury to the bound address at the deposit rate ' +
          '(rounded down to whole wei). The payout is `settled` once the transfer has its confirmations (the tx hash is in ' +
          'the ledger history), or `released` (earnings back) if it fails. Several payouts due to one address go in one ' +
          'transfer. Send an Idempotency-Key: a retry replays the first answer and pays once. 409 without a bound address.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object({ amount: MicroCreditsIn }, { additionalProperties: false }),
        response: { 202: PayoutSchema, ...errorResponses([...KEY_AUTH_ERRORS, 402, 409, 422, ...BODY_ERRORS]) },
      },
    },
    async (request, reply) => {
      const { accountId } = accountPrincipal(request);
      const payouts = wallet.payouts;
      const chain = wallet.chain;
      if (!payouts || !chain) throw unavailable();
      const answer = await withIdempotency(
        app.db,
        { scope: `account:${accountId}`, key: request.headers['idempotency-key'], fingerprint: requestFingerprint('POST', '/v1/account/payouts', request.body) },
        async (tx) => ({ status: 202, body: payoutView(await payouts.request(tx, accountId, toMicroCredits(request.body.amount)), chain) }),
      );
      if (answer.replayed) reply.header('Idempotent-Replayed', 'true');
      else wallet.kickPayouts();
      return reply.code(202).send(answer.body);
    },
  );

  app.get(
    '/v1/account/payouts',
    {
      config: { auth: 'key', session: true },
      schema: {
        operationId: 'listPayouts',
        tags: ['wallet'],
        summary: 'This account\'s payouts, newest first',
        description: 'Queued, sent, settled and released payouts; pages with `next_cursor` like `GET /v1/jobs`.',
        security,
        querystring: PageQuery,
        response: { 200: Page(PayoutSchema, 'PayoutPage'), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      const chain = wallet.chain;
      if (!chain) return { data: [], next_cursor: null };
      const limit = request.query.limit ?? 50;
      const rows = await app.db
        .select({ row: walletPayouts, at: sql<string>`${walletPayouts.createdAt}::text` })
        .from(walletPayouts)
        .where(and(eq(walletPayouts.accountId, accountId), keysetAfter(request.query.cursor, walletPayouts.createdAt, walletPayouts.id)))
        .orderBy(desc(walletPayouts.createdAt), desc(walletPayouts.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { data: page.map((r) => payoutView(r.row, chain)), next_cursor: rows.length > limit ? keysetCursor(last.at, last.row.id) : null };
    },
  );

  app.get(
    '/v1/account/payouts/:id',
    {
      config: { auth: 'key', session: true },
      schema: {
        operationId: 'getPayout',
        tags: ['wallet'],
        summary: 'One payout of this account',
        description: 'Its status and, once sent, the transfer on chain. Another account\'s payout is a 404.',
        security,
        params: IdParams,
        response: { 200: PayoutSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      const [row] = await app.db.select().from(walletPayouts).where(and(eq(walletPayouts.id, request.params.id), eq(walletPayouts.accountId, accountId)));
      if (!row || !wallet.chain) throw notFound('payout');
      return payoutView(row, wallet.chain);
    },
  );
};

export default walletAccountRoutes;
