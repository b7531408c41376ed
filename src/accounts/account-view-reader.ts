// Reads an account with its balances as the API shows it (operator and account routes alike).
import type { FastifyInstance } from 'fastify';
import { notFound } from '../errors/app-error.js';

export async function readAccountView(app: FastifyInstance, accountId: string) {
  const account = await app.accountRepository.findAccount(accountId);
  if (!account) throw notFound('account');
  const { available, held, earnings } = await app.ledger.balances(account.id);
  return { id: account.id, name: account.name, balance: available, held, earnings, created_at: account.createdAt.toISOString() };
}
