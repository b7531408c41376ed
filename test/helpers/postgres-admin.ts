// Admin access to the test Postgres server: creates and drops the per-file databases.
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`integration tests need Postgres at ${PG_ADMIN_URL} (set TEST_PG_ADMIN_URL): ${String(err)}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
