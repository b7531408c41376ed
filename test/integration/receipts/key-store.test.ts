import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyStore } from '../../../src/receipts/key-store.js';
import { signingKeys } from '../../../src/receipts/receipts-schema.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let t: TestDatabase;
const dirs: string[] = [];
const newDataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'posthuman-keys-'));
  dirs.push(dir);
  return dir;
};
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const rows = () => t.database.db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
const mode = (path: string) => statSync(path).mode & 0o777;

describe('key store', () => {
  it('registers only the public half in the database and keeps the private half in a 0600 file', async () => {
    const dataDir = newDataDir();
    const store = createKeyStore({ db: t.database.db, dataDir });
    const gateway = await store.ensureActive('gateway');
    expect(gateway.kid).toMatch(/^gw-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    const [row] = await t.database.db.select().from(signingKeys).where(eq(signingKeys.kid, gateway.kid));
    expect(row).toMatchObject({ purpose: 'gateway', alg: 'EdDSA', retiredAt: null });
    expect(Object.keys(row.publicJwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(JSON.stringify(row)).not.toMatch(/"d"/);

    const file = join(dataDir, 'keys', 'gateway', `${gateway.kid}.jwk`);
    const priv = JSON.parse(readFileSync(file, 'utf8'));
    expect(priv).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: gateway.kid, x: row.publicJwk.x });
    expect(typeof priv.d).toBe('string');
    expect(JSON.stringify(await rows())).not.toContain(priv.d);
    expect(mode(file)).toBe(0o600);
    expect(mode(join(dataDir, 'keys'))).toBe(0o700);
    expect(mode(join(dataDir, 'keys', 'gateway'))).toBe(0o700);
    expect(readdirSync(join(dataDir, 'keys', 'gateway'))).toEqual([`${gateway.kid}.jwk`]);
  });

  it('reuses the key whose private file is here, and a replica with another data dir gets its own', async () => {
    const dataDir = newDataDir();
    const first = await createKeyStore({ db: t.database.db, dataDir }).ensureActive('gateway');
    const restarted = createKeyStore({ db: t.database.db, dataDir });
    const [a, b] = await Promise.all([restarted.ensureActive('gateway'), restarted.ensureActive('gateway')]);
    expect(a.kid).toBe(first.kid);
    expect(b.kid).toBe(first.kid);
    const replica = await createKeyStore({ db: t.database.db, dataDir: newDataDir() }).ensureActive('gateway');
    expect(replica.kid).not.toBe(first.kid);
    const listed = (await restarted.jwks()).keys.map((k) => k.kid);
    expect(listed).toEqual(expect.arrayContaining([first.kid, replica.kid]));
  });

  it('names worker keys after the worker and keeps one per name', async () => {
    const store = createKeyStore({ db: t.database.db, dataDir: newDataDir() });
    const w1 = await store.ensureActive('worker', 'host-a.1');
    const w2 = await store.ensureActive('worker', 'host-b');
    expect(w1.kid).toMatch(/^wk-host-a\.1-[0-9a-f]{8}$/);
    expect(w2.kid).toMatch(/^wk-host-b-[0-9a-f]{8}$/);
    expect((await store.ensureActive('worker', 'host-a.1')).kid).toBe(w1.kid);
    await expect(store.ensureActive('worker', '../evil')).rejects.toThrow(/worker key name/);
    await expect(store.ensureActive('worker')).rejects.toThrow(/worker name/);
    expect((await store.publicKey(w1.kid))?.kid).toBe(w1.kid);
    expect(await store.publicKey('wk-nobody-00000000')).toBeUndefined();
  });

  it('rotates: a new key signs, the old one is retired but still listed', async () => {
    const dataDir = newDataDir();
    const store = createKeyStore({ db: t.database.db, dataDir });
    const old = await store.ensureActive('gateway');
    const next = await store.rotate('gateway');
    expect(next.kid).not.toBe(old.kid);
    expect((await store.ensureActive('gateway')).kid).toBe(next.kid);
    const [oldRow] = await t.database.db.select().from(signingKeys).where(eq(signingKeys.kid, old.kid));
    expect(oldRow.retiredAt).toBeInstanceOf(Date);
    const kids = (await store.jwks()).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([old.kid, next.kid]));
    // A restart picks the unretired key even though the retired one's file is still here.
    expect((await createKeyStore({ db: t.database.db, dataDir }).ensureActive('gateway')).kid).toBe(next.kid);
  });

  it('refuses a key file others can read', async () => {
    const dataDir = newDataDir();
    const signer = await createKeyStore({ db: t.database.db, dataDir }).ensureActive('gateway');
    await chmod(join(dataDir, 'keys', 'gateway', `${signer.kid}.jwk`), 0o644);
    await expect(createKeyStore({ db: t.database.db, dataDir }).ensureActive('gateway')).rejects.toThrow(/readable by others/);
  });

  it('has a database that refuses a private JWK outright', async () => {
    const insert = t.database.db.insert(signingKeys).values({
      kid: 'gw-2026-01-01-00000000',
      purpose: 'gateway',
      publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'secret', kid: 'gw-2026-01-01-00000000', alg: 'EdDSA', use: 'sig' } as never,
    });
    await expect(insert).rejects.toMatchObject({ cause: { constraint: 'signing_keys_public_only' } });
    expect((await rows()).some((r) => r.kid === 'gw-2026-01-01-00000000')).toBe(false);
  });
});
