// Reads and writes accounts and API keys; every query that takes an id also takes the owner.
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { ensureAccountBooks } from '../credits/ledger-books.js';
import { accounts, apiKeys } from './accounts-schema.js';
import { generateApiKey } from './api-key-secret.js';
import type { Scope } from './scopes.js';

export interface ApiKeyView {
  id: string;
  accountId: string;
  name: string | null;
  prefix: string;
  scopes: Scope[];
  rateLimitPerMinute: number | null;
  spendCap: bigint | null;
  spent: bigint;
  createdAt: Date;
  revokedAt: Date | null;
}

const keyColumns = {
  id: apiKeys.id,
  accountId: apiKeys.accountId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  rateLimitPerMinute: apiKeys.rateLimitPerMinute,
  spendCap: apiKeys.spendCap,
  spent: apiKeys.spent,
  createdAt: apiKeys.createdAt,
  revokedAt: apiKeys.revokedAt,
};

export function createAccountRepository(db: DbOrTx) {
  return {
    async createAccount(name: string) {
      return db.transaction(async (tx) => {
        const [row] = await tx.insert(accounts).values({ name }).returning();
        await ensureAccountBooks(tx, row.id);
        return row;
      });
    },

    async findAccount(id: string) {
      const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
      return row;
    },

    /** Creates a key and returns the raw secret; it is never stored and cannot be shown again. */
    async createKey(input: {
      accountId: string;
      name?: string;
      scopes: Scope[];
      rateLimitPerMinute?: number;
      spendCap?: bigint;
    }): Promise<ApiKeyView & { key: string }> {
      const secret = generateApiKey();
      const [row] = await db
        .insert(apiKeys)
        .values({
          accountId: input.accountId,
          name: input.name ?? null,
          prefix: secret.prefix,
          keyHash: secret.hash,
          scopes: input.scopes,
          rateLimitPerMinute: input.rateLimitPerMinute ?? null,
          spendCap: input.spendCap ?? null,
        })
        .returning(keyColumns);
      return { ...(row as ApiKeyView), key: secret.key };
    },

    /** One key of this account (the owner is part of the lookup). */
    async findKey(accountId: string, keyId: string): Promise<ApiKeyView | undefined> {
      const [row] = await db
        .select(keyColumns)
        .from(apiKeys)
        .where(and(eq(apiKeys.id, keyId), eq(apiKeys.accountId, accountId)));
      return row as ApiKeyView | undefined;
    },

    async findKeyByPrefix(prefix: string) {
      const [row] = await db
        .select({ ...keyColumns, keyHash: apiKeys.keyHash })
        .from(apiKeys)
        .where(eq(apiKeys.prefix, prefix));
      return row as (ApiKeyView & { keyHash: string }) | undefined;
    },

    async listKeys(accountId: string): Promise<ApiKeyView[]> {
      const rows = await db
        .select(keyColumns)
        .from(apiKeys)
        .where(eq(apiKeys.accountId, accountId))
        .orderBy(desc(apiKeys.createdAt));
      return rows as ApiKeyView[];
    },

    /** Revokes a key of this account; false when no such live key belongs to it. */
    async revokeKey(accountId: string, keyId: string): Promise<boolean> {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.id, keyId), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      return rows.length === 1;
    },
  };
}

export type AccountRepository = ReturnType<typeof createAccountRepository>;
