// Accounts bound to wallet addresses: created on an address's first sign-in (no operator step), or an
// existing account bound to the address that signed. One address per account and one account per
// address; deposits the address made before it was bound are credited when it is.
import { eq, sql } from 'drizzle-orm';
import { accounts } from '../accounts/accounts-schema.js';
import { ensureAccountBooks } from '../credits/ledger-books.js';
import type { Tx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { claimUnclaimed } from './deposit-ledger.js';
import { accountWallets } from './wallet-schema.js';

type TokenInfo = { address: string; symbol: string; decimals: number };

/** Serialises work on one address inside the caller's transaction (two first sign-ins at once make one account). */
async function lockAddress(tx: Tx, address: string) {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`wallet:${address}`}, 0))`);
}

export async function findBoundAddress(tx: Tx, accountId: string): Promise<string | null> {
  const [row] = await tx.select({ address: accountWallets.address }).from(accountWallets).where(eq(accountWallets.accountId, accountId));
  return row?.address ?? null;
}

/** The account bound to `address`, created (with its books) when the address signs in the first time. */
export async function signInAccount(tx: Tx, address: string, tokens: TokenInfo[]) {
  await lockAddress(tx, address);
  const [bound] = await tx
    .select({ id: accounts.id, name: accounts.name, createdAt: accounts.createdAt })
    .from(accountWallets)
    .innerJoin(accounts, eq(accounts.id, accountWallets.accountId))
    .where(eq(accountWallets.address, address));
  if (bound) return { account: bound, created: false, claimedDeposits: 0 };
  const [account] = await tx.insert(accounts).values({ name: address }).returning({ id: accounts.id, name: accounts.name, createdAt: accounts.createdAt });
  await ensureAccountBooks(tx, account.id);
  await tx.insert(accountWallets).values({ address, accountId: account.id });
  const claimedDeposits = await claimUnclaimed(tx, address, account.id, tokens);
  return { account, created: true, claimedDeposits };
}

/** Binds `address` to an existing account that has none; 409 when either side is already bound. */
export async function bindAddress(tx: Tx, accountId: string, address: string, tokens: TokenInfo[]) {
  await lockAddress(tx, address);
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`wallet-account:${accountId}`}, 0))`);
  const [taken] = await tx.select().from(accountWallets).where(eq(accountWallets.address, address));
  if (taken) {
    if (taken.accountId === accountId) return { address, claimedDeposits: 0 };
    throw new AppError('conflict', `${address} is already bound to another account`, { field: 'body.message' });
  }
  const existing = await findBoundAddress(tx, accountId);
  if (existing) throw new AppError('conflict', `this account is already bound to ${existing}`);
  await tx.insert(accountWallets).values({ address, accountId });
  return { address, claimedDeposits: await claimUnclaimed(tx, address, accountId, tokens) };
}
