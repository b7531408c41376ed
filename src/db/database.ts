// Opens the database: a Postgres server pool when DATABASE_URL is set, else embedded PGlite on disk.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** A repository call runs on the database or inside a caller's transaction. */
export type DbOrTx = Db | Tx;

/** Runs `fn` in the caller's transaction when given one, else in a new transaction of its own. */
export function inTransaction<T>(on: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // Only a transaction has `rollback`; nesting a second transaction would open a savepoint instead.
  return 'rollback' in on ? fn(on as Tx) : (on as Db).transaction(fn);
}

/** The rows of a raw `db.execute` (node-postgres answers `{ rows }`; an array is taken as is). */
export function rowsOf<T>(result: { rows: T[] } | T[]): T[] {
  return Array.isArray(result) ? result : result.rows;
}

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = new URL('../../migrations', import.meta.url).pathname;

// Serialises migrations across replicas that start at once.
const MIGRATION_LOCK_ID = 727_001;

export async function openDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax?: number;
  /** Shown in pg_stat_activity (e.g. `posthuman-worker:<id>`), so an operator can tell connections apart. */
  applicationName?: string;
}): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolMax ?? 10, options.applicationName);
  return openPglite(join(options.dataDir, 'pgdata'));
}

async function openPostgres(url: string, poolMax: number, applicationName?: string): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  // int8 columns read as strings by default; drizzle maps bigint-mode columns itself.
  const pool = new pg.Pool({ connectionString: url, max: poolMax, ...(applicationName ? { application_name: applicationName } : {}) });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries surface real errors.
  });
  pool.on('connect', (client) => {
    // A checked-out client whose connection is terminated (pg_terminate_backend, a failover) emits
    // 'error' outside any query; unheard, that event would crash the process. Its query fails anyway.
    client.on('error', () => {});
  });
  const db = drizzle(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        await migrate(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
        client.release();
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = new PGlite(dir);
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      await migrate(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    async ping() {
      await client.query('SELECT 1');
    },
    async close() {
      await client.close();
    },
  };
}
