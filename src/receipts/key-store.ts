// Keeps this host's private signing keys in files under the keys dir and registers their public
// halves in Postgres, so every replica's JWKS lists every key any replica has ever signed with.
// A worker's store holds worker keys only: it can neither load nor mint a gateway (`gw-`) key.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { and, asc, desc, eq, inArray, isNull, like, sql } from 'drizzle-orm';
import type { JWK } from 'jose';
import { type Db, type DbOrTx, inTransaction, type Tx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { signingKeys } from './receipts-schema.js';
import {
  assertWorkerName,
  createJwsSigner,
  generateSigningKey,
  isValidKid,
  type Jwks,
  type JwsSigner,
  type KeyPurpose,
  type PublicJwk,
} from './signing-keys.js';

export interface KeyStore {
  /** The signer for this purpose (and worker name): the newest unretired key whose file is here, or a new one. */
  ensureActive(purpose: KeyPurpose, name?: string): Promise<JwsSigner>;
  /** A new key for this purpose; the one this host was using is marked retired but stays listed. */
  rotate(purpose: KeyPurpose, name?: string): Promise<JwsSigner>;
  /**
   * The gateway key to sign with now, read from Postgres: the newest unretired gateway key whose
   * private file is here (a rotation by any replica sharing the keys dir shows at once), else
   * ensureActive's. Call it outside transactions (it queries the database).
   */
  currentGateway(): Promise<JwsSigner>;
  /** Every public key ever registered, current and retired, oldest first. */
  jwks(on?: DbOrTx): Promise<Jwks>;
  publicKey(kid: string, on?: DbOrTx): Promise<PublicJwk | undefined>;
}

// Per purpose and name, so two processes sharing a data dir create one key, not two.
const lockKey = (purpose: KeyPurpose, name: string | undefined) => `signing-key:${purpose}:${name ?? ''}`;

export interface KeyStoreOptions {
  db: Db;
  dataDir: string;
  /** Where the private key files live; default `<dataDir>/keys`. */
  keysDir?: string;
  /** `worker`: this process may hold worker keys only (a worker never holds the gateway's). Default `gateway`. */
  role?: 'gateway' | 'worker';
}

/** The unretired keys of one slot (the gateway's, or one worker's), newest first. */
function unretiredKeys(tx: Tx, purpose: KeyPurpose, name: string | undefined) {
  return tx
    .select({ kid: signingKeys.kid, publicJwk: signingKeys.publicJwk })
    .from(signingKeys)
    .where(
      and(
        eq(signingKeys.purpose, purpose),
        isNull(signingKeys.retiredAt),
        name === undefined ? undefined : like(signingKeys.kid, `wk-${name}-%`),
      ),
    )
    .orderBy(desc(signingKeys.createdAt), desc(signingKeys.kid));
}

export function createKeyStore({ db, dataDir, keysDir, role = 'gateway' }: KeyStoreOptions): KeyStore {
  const root = keysDir ?? join(dataDir, 'keys');
  const assertMayHold = (purpose: KeyPurpose) => {
    if (role === 'worker' && purpose !== 'worker') {
      throw new Error(`a worker holds its own attestation key only, never a ${purpose} key`);
    }
  };
  // The signer is cached: signing happens inside transactions, where a query on `db` would deadlock
  // the embedded database's single connection.
  const active = new Map<string, Promise<JwsSigner>>();
  const slot = (purpose: KeyPurpose, name?: string) => `${purpose}:${name ?? ''}`;

  const keyFile = (purpose: KeyPurpose, kid: string) => {
    // The kid is checked before it names a file, so no kid can walk out of the keys folder.
    if (!isValidKid(kid)) throw new Error(`refusing to use ${JSON.stringify(kid)} as a key file name`);
    return join(root, purpose, `${kid}.jwk`);
  };

  async function keyDir(purpose: KeyPurpose) {
    const dir = join(root, purpose);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir leaves existing folders' modes alone, so tighten both levels explicitly.
    await chmod(root, 0o700);
    await chmod(dir, 0o700);
    return dir;
  }

  /** Written to a temporary name and renamed, so a crash never leaves a half-written key file. */
  async function writePrivateKey(purpose: KeyPurpose, kid: string, jwk: JWK) {
    const dir = await keyDir(purpose);
    const final = keyFile(purpose, kid);
    const temp = join(dir, `.${kid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(jwk)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, final).catch(async (err) => {
      await rm(temp, { force: true });
      throw err;
    });
  }

  async function readPrivateKey(purpose: KeyPurpose, row: { kid: string; publicJwk: PublicJwk }): Promise<JWK | undefined> {
    const file = keyFile(purpose, row.kid);
    const info = await stat(file).catch(() => undefined);
    if (!info) return undefined;
    if ((info.mode & 0o077) !== 0) {
      throw new Error(`private key file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
    // A file that does not hold the registered key's private half must never sign under its kid.
    if (jwk.kid !== row.kid || jwk.x !== row.publicJwk.x || !jwk.d) {
      throw new Error(`private key file ${file} does not match the registered public key ${row.kid}`);
    }
    return jwk;
  }

  async function register(tx: DbOrTx, purpose: KeyPurpose, name?: string): Promise<JwsSigner> {
    const key = await generateSigningKey(purpose, name);
    // The file first: a key registered without its private half here would be useless, while a
    // file whose registration fails is simply never loaded.
    await writePrivateKey(purpose, key.kid, key.privateJwk);
    await tx.insert(signingKeys).values({ kid: key.kid, purpose, publicJwk: key.publicJwk });
    return createJwsSigner(key.kid, key.privateJwk);
  }

  async function loadOrCreate(purpose: KeyPurpose, name?: string): Promise<JwsSigner> {
    assertMayHold(purpose);
    if (purpose === 'worker' && name === undefined) throw new TypeError('a worker key needs the worker name');
    if (purpose === 'gateway' && name !== undefined) throw new TypeError('gateway keys take no name');
    if (name !== undefined) assertWorkerName(name);
    return inTransaction(db, async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey(purpose, name)}, 0))`);
      const candidates = await unretiredKeys(tx, purpose, name);
      for (const row of candidates) {
        // Another replica's keys are registered too; only one whose private half is here can sign.
        if (name !== undefined && row.kid.slice(3, -9) !== name) continue;
        const jwk = await readPrivateKey(purpose, row);
        if (jwk) return createJwsSigner(row.kid, jwk);
      }
      return register(tx, purpose, name);
    });
  }

  function ensureActive(purpose: KeyPurpose, name?: string): Promise<JwsSigner> {
    const key = slot(purpose, name);
    let signer = active.get(key);
    if (!signer) {
      signer = loadOrCreate(purpose, name);
      active.set(key, signer);
      signer.catch(() => active.delete(key));
    }
    return signer;
  }

  // Signers by kid: a key file is read and imported once, whatever asks for it.
  const byKid = new Map<string, JwsSigner>();
  const publicByKid = new Map<string, PublicJwk>();

  async function currentGateway(): Promise<JwsSigner> {
    assertMayHold('gateway');
    const rows = await db
      .select({ kid: signingKeys.kid, publicJwk: signingKeys.publicJwk })
      .from(signingKeys)
      .where(and(eq(signingKeys.purpose, 'gateway'), isNull(signingKeys.retiredAt)))
      .orderBy(desc(signingKeys.createdAt), desc(signingKeys.kid));
    for (const row of rows) {
      const known = byKid.get(row.kid);
      if (known) return known;
      const jwk = await readPrivateKey('gateway', row);
      if (jwk) {
        const signer = await createJwsSigner(row.kid, jwk);
        byKid.set(row.kid, signer);
        return signer;
      }
    }
    // No unretired key of ours (a first start, or another replica with its own keys dir rotated ours away).
    const cached = await ensureActive('gateway');
    if (rows.some((r) => r.kid === cached.kid)) return cached;
    active.delete(slot('gateway'));
    return ensureActive('gateway');
  }

  /** Slots with a rotation running in this process: a second one is refused, not raced. */
  const rotating = new Set<string>();

  async function rotate(purpose: KeyPurpose, name?: string): Promise<JwsSigner> {
    assertMayHold(purpose);
    const key = slot(purpose, name);
    if (rotating.has(key)) throw new AppError('rotation_in_progress', `a ${purpose} key rotation is already running; retry when it is done`);
    rotating.add(key);
    try {
      const current = await ensureActive(purpose, name);
      const next = inTransaction(db, async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey(purpose, name)}, 0))`);
        // Every unretired key of this slot that signs from this keys dir: replicas sharing the dir
        // (the gateway's) then all move to the new key, whichever of them rotated.
        const live = await unretiredKeys(tx, purpose, name);
        const ours: string[] = [];
        for (const row of live) if (row.kid === current.kid || (await readPrivateKey(purpose, row))) ours.push(row.kid);
        const retired = ours.length
          ? await tx
              .update(signingKeys)
              .set({ retiredAt: new Date() })
              .where(and(inArray(signingKeys.kid, ours), isNull(signingKeys.retiredAt)))
              .returning({ kid: signingKeys.kid })
          : [];
        if (retired.length === 0) {
          // Another replica rotated it meanwhile: forget the stale key so a retry starts from the new one.
          active.delete(key);
          throw new AppError('rotation_in_progress', `key ${current.kid} was just retired by another rotation; retry`);
        }
        return register(tx, purpose, name);
      });
      await next;
      active.set(key, next);
      return next;
    } finally {
      rotating.delete(key);
    }
  }

  return {
    ensureActive,
    rotate,
    currentGateway,

    async jwks(on = db) {
      const rows = await on
        .select({ publicJwk: signingKeys.publicJwk })
        .from(signingKeys)
        .orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
      return { keys: rows.map((r) => r.publicJwk) };
    },

    async publicKey(kid, on = db) {
      // A kid names one public key forever (retired keys stay listed): found once, cached.
      const known = publicByKid.get(kid);
      if (known) return known;
      const [row] = await on.select({ publicJwk: signingKeys.publicJwk }).from(signingKeys).where(eq(signingKeys.kid, kid));
      if (row && publicByKid.size < 10_000) publicByKid.set(kid, row.publicJwk);
      return row?.publicJwk;
    },
  };
}
