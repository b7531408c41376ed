// Which database a deployment runs on, so a worker pointed at another one refuses to start instead of
// taking jobs it cannot see. The gateway publishes the identity under its Redis prefix; the worker
// compares its own database's identity with it.
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Db } from '../db/database.js';

export interface DeploymentIdentity {
  /** The Postgres cluster's system identifier and the database's OID: unique per database, stable. */
  id: string;
  /** For messages: host:port/name, never a password. */
  database: string;
}

const key = (prefix: string) => `${prefix}:deployment`;

/** host:port/name of a Postgres URL, without credentials. */
export function describeDatabaseUrl(url: string | undefined): string {
  if (!url) return 'embedded PGlite';
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/** host:port of a Redis URL, without credentials. */
export function describeRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
}

export async function readDeploymentIdentity(db: Db, databaseUrl: string | undefined): Promise<DeploymentIdentity> {
  const database = describeDatabaseUrl(databaseUrl);
  try {
    const result = (await db.execute(
      sql`SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system, oid::text AS oid FROM pg_database WHERE datname = current_database()`,
    )) as unknown as { rows: { system: string; oid: string }[] };
    const row = result.rows[0];
    return { id: `pg:${row.system}:${row.oid}`, database };
  } catch {
    // Embedded PGlite (or a server hiding pg_control_system): the description is all there is.
    return { id: `db:${database}`, database };
  }
}

export async function publishDeploymentIdentity(redis: Redis, prefix: string, identity: DeploymentIdentity): Promise<void> {
  await redis.set(key(prefix), JSON.stringify(identity));
}

export class DeploymentMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentMismatchError';
  }
}

/**
 * Resolves when the gateway on this Redis prefix runs on the same database; throws
 * DeploymentMismatchError when it runs on another, or when no gateway published one within `waitMs`.
 */
export async function assertSameDeployment(
  redis: Redis,
  prefix: string,
  own: DeploymentIdentity,
  options: { waitMs: number; onWait?: () => void },
): Promise<void> {
  const deadline = Date.now() + options.waitMs;
  let warned = false;
  for (;;) {
    const raw = await redis.get(key(prefix)).catch(() => null);
    if (raw) {
      const gateway = JSON.parse(raw) as DeploymentIdentity;
      if (gateway.id === own.id) return;
      throw new DeploymentMismatchError(
        `this worker's database (${own.database}, ${own.id}) is not the gateway's (${gateway.database}, ${gateway.id}) on ` +
          `Redis prefix "${prefix}": point DATABASE_URL at the gateway's database, or use another REDIS_PREFIX`,
      );
    }
    if (Date.now() >= deadline) {
      throw new DeploymentMismatchError(
        `no gateway has published its database under Redis prefix "${prefix}" within ${options.waitMs} ms: start the gateway ` +
          '(with the same REDIS_URL and REDIS_PREFIX) first',
      );
    }
    if (!warned) options.onWait?.();
    warned = true;
    await new Promise((r) => setTimeout(r, 500));
  }
}
