// Tables for tenants (accounts) and their API keys; keys are stored only as a SHA-256 hash.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    name: text('name'),
    /** Public, non-secret part of the key used to find its row. */
    prefix: text('prefix').notNull().unique(),
    /** Hex SHA-256 of the whole key. */
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    rateLimitPerMinute: integer('rate_limit_per_minute'),
    spendCap: bigint('spend_cap', { mode: 'bigint' }),
    /** Micro-credits committed by this key: captured spend plus open holds. */
    spent: bigint('spent', { mode: 'bigint' }).notNull().default(sql`0`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('api_keys_account_idx').on(t.accountId),
    check('api_keys_spent_within_cap', sql`${t.spendCap} IS NULL OR ${t.spent} <= ${t.spendCap}`),
    check('api_keys_spent_non_negative', sql`${t.spent} >= 0`),
  ],
);
