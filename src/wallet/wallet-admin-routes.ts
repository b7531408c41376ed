// Operator routes for on-chain money: every deposit (unclaimed ones are held here, never lost), crediting
// an unclaimed deposit to an account by hand, and the ledger-against-chain reconciliation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import { Type } from 'typebox';
import { createAccountRepository } from '../accounts/account-repository.js';
import { AppError, notFound } from '../errors/app-error.js';
import { BODY_ERRORS, errorResponses, IdParams, OPERATOR_AUTH_ERRORS, Page, PageQuery } from '../http/schemas.js';
import { creditDeposit } from './deposit-ledger.js';
import { reconcileChain } from './reconcile.js';
import { depositPage } from './wallet-account-routes.js';
import { DEPOSIT_STATUSES, walletDeposits } from './wallet-schema.js';
import { DepositSchema, depositView } from './wallet-views.js';

const security = [{ operatorToken: [] }];
const Micro = Type.String({ pattern: '^-?[0-9]+$' });

const ReconciliationSchema = Type.Object(
  {
    chain_id: Type.Integer(),
    treasury: Type.String(),
    head: Type.Integer(),
    confirmations: Type.Integer(),
    deposits: Type.Object({
      credited: Type.Integer(),
      credited_micro_credits: Micro,
      ledger_micro_credits: Micro,
      unclaimed: Type.Integer(),
      unclaimed_micro_credits: Micro,
      pending: Type.Integer(),
    }),
    payouts: Type.Object({
      settled: Type.Integer(),
      settled_micro_credits: Micro,
      ledger_micro_credits: Micro,
      in_flight: Type.Integer(),
      in_flight_micro_credits: Micro,
      held_micro_credits: Micro,
    }),
    differences: Type.Array(Type.String(), { description: 'Empty when the ledger and the chain agree' }),
  },
  {
    title: 'Reconciliation',
    description: 'The ledger\'s deposit and payout books against the chain',
    examples: [
      {
        chain_id: 8996,
        treasury: '0x5A1c…09F2',
        head: 1204,
        confirmations: 3,
        deposits: { credited: 2, credited_micro_credits: '4000000', ledger_micro_credits: '4000000', unclaimed: 0, unclaimed_micro_credits: '0', pending: 0 },
        payouts: { settled: 1, settled_micro_credits: '2000000', ledger_micro_credits: '2000000', in_flight: 0, in_flight_micro_credits: '0', held_micro_credits: '0' },
        differences: [],
      },
    ],
  },
);

const unavailable = () =>
  new AppError('chain_unavailable', 'this gateway takes no payments on chain (CHAIN=off, or no treasury key is configured)', { headers: { 'Retry-After': '60' } });

const walletAdminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { wallet } = app;

  app.get(
    '/v1/admin/deposits',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'listDepositsAsOperator',
        tags: ['admin'],
        summary: 'Every on-chain deposit to the treasury; `status=unclaimed` lists those from addresses no account is bound to',
        description: 'Newest first, every account\'s; filter by `status`. Pages with `next_cursor` like `GET /v1/jobs`.',
        security,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...DEPOSIT_STATUSES], description: 'Only deposits in this state', examples: ['unclaimed'] })),
        }),
        response: { 200: Page(DepositSchema, 'DepositPage'), ...errorResponses(OPERATOR_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const chain = wallet.chain;
      const deposits = wallet.deposits;
      if (!chain || !deposits) return { data: [], next_cursor: null };
      const status = request.query.status as (typeof DEPOSIT_STATUSES)[number] | undefined;
      return depositPage(app.db, status ? eq(walletDeposits.status, status) : undefined, request.query, deposits, chain);
    },
  );

  app.post(
    '/v1/admin/deposits/:id/credit',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'creditUnclaimedDeposit',
        tags: ['admin'],
        summary: 'Credit an unclaimed deposit to an account (e.g. one sent from an exchange\'s address)',
        description: 'Only an `unclaimed` deposit can be credited this way, once (409 otherwise). The sender signing in later credits its own unclaimed deposits by itself.',
        security,
        params: IdParams,
        body: Type.Object(
          { account_id: Type.String({ format: 'uuid', description: 'The account to credit', examples: ['3c9a7e21-0b5d-4f8e-a6c4-1d2e3f4a5b6c'] }) },
          { additionalProperties: false },
        ),
        response: { 200: DepositSchema, ...errorResponses([...OPERATOR_AUTH_ERRORS, 404, 409, ...BODY_ERRORS]) },
      },
    },
    async (request) => {
      const chain = wallet.chain;
      if (!chain || !wallet.deposits) throw unavailable();
      const row = await app.db.transaction(async (tx) => {
        const [deposit] = await tx.select().from(walletDeposits).where(eq(walletDeposits.id, request.params.id)).for('update');
        if (!deposit) throw notFound('deposit');
        if (!(await createAccountRepository(tx).findAccount(request.body.account_id))) throw notFound('account');
        if (deposit.status !== 'unclaimed') throw new AppError('conflict', `the deposit is ${deposit.status}, not unclaimed`);
        const token = chain.tokens.find((t) => t.address === deposit.token);
        await creditDeposit(tx, deposit, request.body.account_id, token?.symbol ?? deposit.token, token?.decimals ?? 18);
        const [after] = await tx.select().from(walletDeposits).where(eq(walletDeposits.id, deposit.id));
        return after;
      });
      return depositView(row, chain, await wallet.deposits.lastHead());
    },
  );

  app.get(
    '/v1/admin/wallet/reconciliation',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'reconcileChain',
        tags: ['admin'],
        summary: 'Compare the ledger\'s deposit and payout books with the chain',
        description: 'Reads every recorded deposit and payout back from the chain, every confirmed transfer to the treasury into the records, and the books\' totals; `differences` lists what disagrees (also `npm run cli -- reconcile-chain`).',
        security,
        response: { 200: ReconciliationSchema, ...errorResponses(OPERATOR_AUTH_ERRORS) },
      },
    },
    async () => {
      if (!wallet.chain) throw unavailable();
      return reconcileChain(app.db, wallet.chain);
    },
  );
};

export default walletAdminRoutes;
