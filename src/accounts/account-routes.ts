// Routes for the calling account: its balance, ledger and API keys. Each also takes a wallet session
// token (Sign-In with Ethereum), which acts as the account's owner.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, notFound } from '../errors/app-error.js';
import { listAccountEntries } from '../credits/ledger-history.js';
import { BODY_ERRORS, errorResponses, IdParams, KEY_AUTH_ERRORS, Page, PageQuery, SignedMicroCredits, Uuid } from '../http/schemas.js';
import { accountPrincipal } from './principal.js';
import { AccountSchema, ApiKeySchema, apiKeyView, CreateKeyBody, NewApiKeySchema } from './account-views.js';
import { readAccountView } from './account-view-reader.js';
import { childKeyLimits } from './child-key-limits.js';
import { DEFAULT_SCOPES } from './scopes.js';

const security: Record<string, string[]>[] = [{ apiKey: [] }, { walletSession: [] }];

const LedgerEntrySchema = Type.Object(
  {
  id: Type.String({ description: 'Entry id (decimal string)' }),
  transaction_id: Uuid,
  kind: Type.String({ description: 'grant, hold or settle' }),
  book: Type.String({ description: 'available, held or earnings' }),
  amount: SignedMicroCredits,
  balance_after: SignedMicroCredits,
  reason: Type.Union([Type.String(), Type.Null()]),
  hold_id: Type.Union([Uuid, Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'LedgerEntry', description: 'One movement of credit on one of the account\'s books' },
);

const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const repo = app.accountRepository;

  app.get(
    '/v1/account',
    {
      config: { auth: 'key', session: true },
      schema: {
        operationId: 'getAccount',
        tags: ['account'],
        summary: "The calling key's account and balance",
        description: 'Balance (available to spend), held (reserved by unfinished jobs) and earnings (as a model or dataset owner), in micro-credits.',
        security,
        response: { 200: AccountSchema, ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      return readAccountView(app, accountId);
    },
  );

  app.get(
    '/v1/account/ledger',
    {
      config: { auth: 'key', session: true },
      schema: {
        operationId: 'listLedgerEntries',
        tags: ['account'],
        summary: "The account's ledger entries, newest first",
        description:
          'Every movement of the account\'s credit: grants, holds when jobs start, captures and releases when they settle, ' +
          'earnings. Pages newest first; pass `next_cursor` as `cursor` for the next page.',
        security,
        querystring: PageQuery,
        response: { 200: Page(LedgerEntrySchema, 'LedgerEntryPage'), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      const page = await listAccountEntries(app.db, accountId, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return {
        data: page.data.map((e) => ({
          id: e.id.toString(),
          transaction_id: e.transactionId,
          kind: e.kind,
          book: e.book,
          amount: e.amount,
          balance_after: e.balanceAfter,
          reason: e.reason,
          hold_id: e.holdId,
          created_at: e.createdAt.toISOString(),
        })),
        next_cursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/v1/account/keys',
    {
      config: { auth: 'key', scope: 'keys', session: true },
      schema: {
        operationId: 'listAccountKeys',
        tags: ['account'],
        summary: "The account's API keys (never the secrets)",
        description: 'Every key of the account, revoked ones included, with its scopes, limits and what it has spent. Needs the `keys` scope.',
        security,
        response: { 200: Type.Object({ data: Type.Array(ApiKeySchema) }, { title: 'ApiKeyList' }), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      return { data: (await repo.listKeys(accountId)).map(apiKeyView) };
    },
  );

  app.post(
    '/v1/account/keys',
    {
      config: { auth: 'key', scope: 'keys', session: true },
      schema: {
        operationId: 'createOwnKey',
        tags: ['account'],
        summary: 'Create another API key for this account (the key is shown once)',
        description:
          "A key never outgrows the key that makes it: scopes default to the caller's and may only narrow them (403 " +
          '`scope_exceeds_parent`); `spend_cap` and `rate_limit_per_minute` default to the caller\'s (its spend cap ' +
          'minus what it has already spent) and may only be lower (400 `key_limit_exceeds_parent`). With a wallet ' +
          'session token the account\'s owner asks: any scopes (default infer, evaluate, finetune, keys), no spend cap ' +
          'unless asked, and `rate_limit_per_minute` WALLET_KEY_RATE_LIMIT_PER_MINUTE (600) unless asked.',
        security,
        body: CreateKeyBody,
        response: { 201: NewApiKeySchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS]) },
      },
    },
    async (request, reply) => {
      const caller = accountPrincipal(request);
      const body = request.body ?? {};
      let limits: ReturnType<typeof childKeyLimits>;
      if (caller.kind === 'session') {
        limits = {
          scopes: body.scopes ?? [...DEFAULT_SCOPES],
          rateLimitPerMinute: body.rate_limit_per_minute ?? app.config.wallet.keyRateLimitPerMinute,
          spendCap: body.spend_cap === undefined ? undefined : BigInt(body.spend_cap),
        };
      } else {
        const parent = await repo.findKey(caller.accountId, caller.keyId);
        if (!parent) throw new AppError('unauthorized', 'the calling key no longer exists');
        limits = childKeyLimits(parent, body);
      }
      const created = await repo.createKey({ accountId: caller.accountId, name: request.body?.name, ...limits });
      return reply.code(201).send({ ...apiKeyView(created), key: created.key });
    },
  );

  app.delete(
    '/v1/account/keys/:id',
    {
      config: { auth: 'key', scope: 'keys', session: true },
      schema: {
        operationId: 'revokeOwnKey',
        tags: ['account'],
        summary: 'Revoke one of this account’s API keys; it stops working at once',
        description: 'The key is refused from the next request on (401); its history stays. Needs the `keys` scope.',
        security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request, reply) => {
      const { accountId } = accountPrincipal(request);
      const revoked = await repo.revokeKey(accountId, request.params.id);
      if (!revoked) throw notFound('API key');
      return reply.code(204).send(null);
    },
  );
};

export default accountRoutes;
