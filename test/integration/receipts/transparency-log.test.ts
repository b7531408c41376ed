import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyStore, type KeyStore } from '../../../src/receipts/key-store.js';
import { fromHex, leafHash, rootHash, toHex, verifyConsistency, verifyInclusion } from '../../../src/receipts/merkle.js';
import { logEntries } from '../../../src/receipts/receipts-schema.js';
import { createTransparencyLog, type TransparencyLog } from '../../../src/receipts/transparency-log.js';
import { verifyTreeHead } from '../../../src/receipts/tree-head.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let t: TestDatabase;
let dataDir: string;
let keys: KeyStore;
let log: TransparencyLog;
beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'posthuman-log-'));
  keys = createKeyStore({ db: t.database.db, dataDir });
  log = createTransparencyLog({ db: t.database.db, signer: await keys.ensureActive('gateway') });
});
afterAll(async () => {
  await t?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const leafFor = (receiptId: string) => toHex(leafHash(`receipt ${receiptId}`));

describe('transparency log', () => {
  it('signs the empty tree with the empty root', async () => {
    const head = await log.treeHead();
    expect(head).toMatchObject({ tree_size: 0, root_hash: toHex(rootHash([])), anchor: null });
    expect((await verifyTreeHead(head, await keys.jwks())).ok).toBe(true);
  });

  it('gives 50 concurrent appends, each in its own transaction, the indexes 0..49 exactly once', async () => {
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const db = t.database.db;
    const got = await Promise.all(ids.map((id) => db.transaction((tx) => log.append(id, leafFor(id), tx))));
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const rows = await db.select().from(logEntries).orderBy(asc(logEntries.idx));
    expect(rows.map((r) => r.idx)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Each receipt sits at the index its own append returned.
    ids.forEach((id, k) => {
      expect(rows[got[k]].receiptId).toBe(id);
    });
  });

  it('frees the index of a rolled-back append instead of leaving a gap', async () => {
    const size = await log.size();
    const rolledBack = randomUUID();
    await expect(
      t.database.db.transaction(async (tx) => {
        expect(await log.append(rolledBack, leafFor(rolledBack), tx)).toBe(size);
        throw new Error('crash after append');
      }),
    ).rejects.toThrow('crash after append');
    const id = randomUUID();
    expect(await log.append(id, leafFor(id))).toBe(size);
    expect(await log.size()).toBe(size + 1);
  });

  it('signs tree heads that verify, proves every entry included, and stores one head per size', async () => {
    const head = await log.treeHead();
    const jwks = await keys.jwks();
    expect(await verifyTreeHead(head, jwks)).toMatchObject({ ok: true });
    expect(await log.treeHead()).toEqual(head);
    expect((await verifyTreeHead({ ...head, tree_size: head.tree_size + 1 }, jwks)).ok).toBe(false);
    expect((await verifyTreeHead({ ...head, root_hash: toHex(rootHash([])) }, jwks)).ok).toBe(false);

    const rows = await t.database.db.select().from(logEntries).orderBy(asc(logEntries.idx));
    expect(head.root_hash).toBe(toHex(rootHash(rows.map((r) => fromHex(r.leafHash)))));
    for (const row of rows) {
      const proof = await log.inclusionProof(row.receiptId);
      expect(proof).toMatchObject({ log_index: row.idx, leaf_hash: row.leafHash, tree_size: head.tree_size, tree_head: head });
      const ok = verifyInclusion(fromHex(row.leafHash), row.idx, proof.tree_size, proof.hashes.map(fromHex), fromHex(head.root_hash));
      expect(ok, `entry ${row.idx}`).toBe(true);
    }
    await expect(log.inclusionProof(randomUUID())).rejects.toMatchObject({ code: 'not_found' });
  });

  it('keeps old heads consistent with new ones across appends, and proves against an older signed size', async () => {
    const first = await log.treeHead();
    const late = Array.from({ length: 7 }, () => randomUUID());
    for (const id of late) await log.append(id, leafFor(id));
    const second = await log.treeHead();
    expect(second.tree_size).toBe(first.tree_size + 7);
    const proof = await log.consistencyProof(first.tree_size, second.tree_size);
    const hashes = proof.hashes.map(fromHex);
    expect(verifyConsistency(first.tree_size, second.tree_size, fromHex(first.root_hash), fromHex(second.root_hash), hashes)).toBe(true);
    expect(verifyConsistency(first.tree_size, second.tree_size, fromHex(second.root_hash), fromHex(second.root_hash), hashes)).toBe(false);

    // An entry proven against the older, signed size.
    const [oldest] = await t.database.db.select().from(logEntries).orderBy(asc(logEntries.idx)).limit(1);
    const old = await log.inclusionProof(oldest.receiptId, first.tree_size);
    expect(old.tree_head).toEqual(first);
    expect(verifyInclusion(fromHex(old.leaf_hash), 0, first.tree_size, old.hashes.map(fromHex), fromHex(first.root_hash))).toBe(true);
    await expect(log.inclusionProof(late[6], first.tree_size)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(log.inclusionProof(oldest.receiptId, first.tree_size + 1)).rejects.toMatchObject({ code: 'not_found' });
    await expect(log.consistencyProof(0, second.tree_size)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(log.consistencyProof(1, second.tree_size + 1)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('records chain anchors once and returns the latest anchored head', async () => {
    expect(await log.latestAnchoredHead()).toBeUndefined();
    const head = await log.treeHead();
    const tx = `0x${'ab'.repeat(32)}`;
    const anchored = await log.recordAnchor(head.tree_size, tx, 8996);
    expect(anchored).toEqual({ ...head, anchor: { tx_hash: tx, chain_id: 8996 } });
    expect(await log.recordAnchor(head.tree_size, tx, 8996)).toEqual(anchored);
    await expect(log.recordAnchor(head.tree_size, `0x${'cd'.repeat(32)}`, 8996)).rejects.toMatchObject({ code: 'conflict' });
    await expect(log.recordAnchor(head.tree_size + 1000, tx, 8996)).rejects.toMatchObject({ code: 'not_found' });
    const id = randomUUID();
    await log.append(id, leafFor(id));
    await log.treeHead();
    expect(await log.latestAnchoredHead()).toEqual(anchored);
    // The anchor is not part of the signed body, so the anchored head still verifies.
    expect((await verifyTreeHead(anchored, await keys.jwks())).ok).toBe(true);
  });

  it('refuses a malformed leaf hash and a duplicate receipt id', async () => {
    const id = randomUUID();
    await expect(log.append(id, 'not-hex')).rejects.toThrow(/hex/);
    await log.append(id, leafFor(id));
    await expect(log.append(id, leafFor(id))).rejects.toThrow();
    const result = (await t.database.db.execute(sql`SELECT (MAX(idx) + 1 - COUNT(*))::int AS gaps FROM log_entries`)) as unknown as {
      rows: { gaps: number }[];
    };
    expect(result.rows[0].gaps).toBe(0);
  });
});
