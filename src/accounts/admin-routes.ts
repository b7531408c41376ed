// Operator routes: create accounts, issue their keys, grant credit.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { notFound } from '../errors/app-error.js';
import { requestFingerprint, withIdempotency } from '../http/idempotency.js';
import {
  BODY_ERRORS,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  MicroCreditsIn,
  MicroCreditsOut,
  OPERATOR_AUTH_ERRORS,
  toMicroCredits,
  Uuid,
} from '../http/schemas.js';
import { createAccountRepository } from './account-repository.js';
import { AccountSchema, apiKeyView, CreateKeyBody, NewApiKeySchema } from './account-views.js';
import { readAccountView } from './account-view-reader.js';
import { DEFAULT_SCOPES } from './scopes.js';

const security = [{ operatorToken: [] }];

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const accountsRepo = app.accountRepository;

  app.post(
    '/v1/admin/accounts',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'createAccount',
        tags: ['admin'],
        summary: 'Create an account',
        description: 'A new account with no credit and no key: grant it credit and issue it a key next.',
        security,
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200, description: 'The customer\'s name', examples: ['Acme'] }) },
          { additionalProperties: false, title: 'CreateAccountRequest', examples: [{ name: 'Acme' }] },
        ),
        response: {
          201: Type.Object(
            { id: Uuid, name: Type.String(), created_at: Type.String({ format: 'date-time' }) },
            { title: 'NewAccount', examples: [{ id: '3c9a7e21-0b5d-4f8e-a6c4-1d2e3f4a5b6c', name: 'Acme', created_at: '2026-11-27T10:51:42.123Z' }] },
          ),
          ...errorResponses([...OPERATOR_AUTH_ERRORS, ...BODY_ERRORS]),
        },
      },
    },
    async (request, reply) => {
      const account = await accountsRepo.createAccount(request.body.name);
      return reply
        .code(201)
        .send({ id: account.id, name: account.name, created_at: account.createdAt.toISOString() });
    },
  );

  app.get(
    '/v1/admin/accounts/:id',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'getAccountAsOperator',
        tags: ['admin'],
        summary: 'Read any account with its balance',
        description: 'The same view the account\'s own keys get from GET /v1/account.',
        security,
        params: IdParams,
        response: { 200: AccountSchema, ...errorResponses([...OPERATOR_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      return readAccountView(app, request.params.id);
    },
  );

  app.post(
    '/v1/admin/accounts/:id/keys',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'createAccountKey',
        tags: ['admin'],
        summary: 'Issue an API key for an account (the key is shown once)',
        description: 'Scopes default to infer, evaluate, finetune and keys (publish must be granted explicitly); no rate limit or spend cap unless given.',
        security,
        params: IdParams,
        body: CreateKeyBody,
        response: { 201: NewApiKeySchema, ...errorResponses([...OPERATOR_AUTH_ERRORS, 404, ...BODY_ERRORS]) },
      },
    },
    async (request, reply) => {
      const account = await accountsRepo.findAccount(request.params.id);
      if (!account) throw notFound('account');
      const body = request.body ?? {};
      const created = await accountsRepo.createKey({
        accountId: account.id,
        name: body.name,
        scopes: body.scopes ?? [...DEFAULT_SCOPES],
        rateLimitPerMinute: body.rate_limit_per_minute,
        spendCap: body.spend_cap === undefined ? undefined : BigInt(body.spend_cap),
      });
      return reply.code(201).send({ ...apiKeyView(created), key: created.key });
    },
  );

  app.post(
    '/v1/admin/accounts/:id/credits',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'grantCredits',
        tags: ['admin'],
        summary: 'Grant prepaid credit to an account',
        description:
          'Moves credit from the issuance book to the account in one ledger transaction. ' +
          'Send an Idempotency-Key: a retry with the same key and body replays the first answer and moves nothing; ' +
          'the same key with another body is a 422.',
        security,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            amount: MicroCreditsIn,
            reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why (kept on the ledger entry)', examples: ['prepaid invoice 1042'] }),
          },
          { additionalProperties: false, title: 'GrantCreditsRequest', examples: [{ amount: 5_000_000, reason: 'prepaid invoice 1042' }] },
        ),
        response: {
          201: Type.Object(
            { balance: MicroCreditsOut, transaction_id: Uuid },
            { title: 'CreditGrant', examples: [{ balance: 5_000_000, transaction_id: '9e8d7c6b-5a49-4382-b1c0-dfe1d2c3b4a5' }] },
          ),
          ...errorResponses([...OPERATOR_AUTH_ERRORS, 404, 422, ...BODY_ERRORS]),
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const answer = await withIdempotency(
        app.db,
        {
          scope: 'operator',
          key,
          fingerprint: requestFingerprint('POST', `/v1/admin/accounts/${request.params.id}/credits`, request.body),
        },
        async (tx) => {
          // Inside the transaction every query goes through `tx`: the embedded database has one
          // connection, and a query outside the open transaction would wait on it forever.
          const account = await createAccountRepository(tx).findAccount(request.params.id);
          if (!account) throw notFound('account');
          const grant = await app.ledger.grant(
            {
              accountId: account.id,
              amount: toMicroCredits(request.body.amount),
              reason: request.body.reason,
              idempotencyKey: key ? `operator:${key}` : randomUUID(),
            },
            tx,
          );
          return { status: 201 as const, body: { balance: grant.balance, transaction_id: grant.transactionId } };
        },
      );
      if (answer.replayed) reply.header('Idempotent-Replayed', 'true');
      return reply.code(201).send(answer.body);
    },
  );
};

export default adminRoutes;
