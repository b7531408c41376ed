// The log's heads and proofs come from stored subtrees: they match the O(n) reference for many
// sizes, a log written without subtree nodes is caught up, and the rows read per call stay O(log n).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/database.js';
import * as schema from '../../../src/db/schema.js';
import { createKeyStore } from '../../../src/receipts/key-store.js';
import {
  consistencyProof,
  fromHex,
  type Hash,
  inclusionProof,
  leafHash,
  rootHash,
  toHex,
  verifyInclusion,
} from '../../../src/receipts/merkle.js';
import { logEntries } from '../../../src/receipts/receipts-schema.js';
import type { JwsSigner } from '../../../src/receipts/signing-keys.js';
import { createTransparencyLog, type TransparencyLog } from '../../../src/receipts/transparency-log.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let t: TestDatabase;
let dataDir: string;
let signer: JwsSigner;
let log: TransparencyLog;
let pool: pg.Pool;
/** Queries and rows returned through `counted`, a second connection pool on the same database. */
const reads = { queries: 0, rows: 0 };
let counted: TransparencyLog;

const leaves: Hash[] = [];
const receiptIds: string[] = [];

/** Writes entries the way a log from before log_nodes holds them: leaves only, no subtree nodes. */
async function appendRaw(upTo: number) {
  const rows = [];
  for (let i = leaves.length; i < upTo; i++) {
    leaves.push(leafHash(`entry ${i}`));
    receiptIds.push(randomUUID());
    rows.push({ idx: i, leafHash: toHex(leaves[i]), receiptId: receiptIds[i] });
  }
  for (let i = 0; i < rows.length; i += 1000) await t.database.db.insert(logEntries).values(rows.slice(i, i + 1000));
}

async function nodeCount(): Promise<number> {
  const result = (await t.database.db.execute(sql`SELECT COUNT(*)::int AS n FROM log_nodes`)) as unknown as { rows: { n: number }[] };
  return result.rows[0].n;
}

const popcount = (x: number) => x.toString(2).replaceAll('0', '').length;
const hex = (hs: Hash[]) => hs.map(toHex);

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'posthuman-log-cost-'));
  signer = await createKeyStore({ db: t.database.db, dataDir }).ensureActive('gateway');
  log = createTransparencyLog({ db: t.database.db, signer });
  pool = new pg.Pool({ connectionString: t.url, max: 2 });
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<pg.QueryResult> }).query = async (...args: unknown[]) => {
    const result = await query(...args);
    reads.queries++;
    reads.rows += result.rows.length;
    return result;
  };
  counted = createTransparencyLog({ db: drizzle(pool, { schema }) as unknown as Db, signer });
});
afterAll(async () => {
  await pool?.end();
  await t?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function cost<T>(fn: () => Promise<T>): Promise<{ value: T; queries: number; rows: number }> {
  const before = { ...reads };
  const value = await fn();
  return { value, queries: reads.queries - before.queries, rows: reads.rows - before.rows };
}

describe('transparency log from stored subtrees', () => {
  const sizes = [1, 2, 3, 5, 8, 13, 64, 100, 255, 256, 257, 300];

  it('catches up a log that has entries but no subtree nodes, idempotently', async () => {
    await appendRaw(sizes[0]);
    for (const size of sizes) {
      await appendRaw(size);
      // The first head over leaves without nodes finds one missing and hashes them in.
      const head = await log.treeHead();
      expect(head.tree_size).toBe(size);
      expect(head.root_hash, `root at ${size}`).toBe(toHex(rootHash(leaves.slice(0, size))));
    }
    expect(await nodeCount()).toBe(2 * 300 - popcount(300));
    await log.syncSubtrees();
    expect(await nodeCount()).toBe(2 * 300 - popcount(300));

    // Entries an older process appended without nodes are hashed in by the next append.
    await appendRaw(305);
    const id = randomUUID();
    const leaf = leafHash('entry 305');
    expect(await log.append(id, toHex(leaf))).toBe(305);
    leaves.push(leaf);
    receiptIds.push(id);
    expect(await nodeCount()).toBe(2 * 306 - popcount(306));
    expect((await log.treeHead()).root_hash).toBe(toHex(rootHash(leaves)));
  });

  it('proves inclusion and consistency for many sizes exactly as the O(n) reference does', async () => {
    for (const size of sizes) {
      const prefix = leaves.slice(0, size);
      const head = await log.signedHead(size);
      expect(head?.root_hash).toBe(toHex(rootHash(prefix)));
      const indexes = size <= 13 ? [...prefix.keys()] : [0, 1, 7, 63, 64, 99, 128, size - 2, size - 1].filter((i) => i < size);
      for (const i of indexes) {
        const proof = await log.inclusionProof(receiptIds[i], size);
        expect(proof.hashes, `inclusion ${i} in ${size}`).toEqual(hex(inclusionProof(i, prefix)));
        expect(verifyInclusion(leaves[i], i, size, proof.hashes.map(fromHex), fromHex(proof.tree_head.root_hash))).toBe(true);
      }
      for (const from of sizes.filter((m) => m <= size)) {
        const proof = await log.consistencyProof(from, size);
        expect(proof.hashes, `consistency ${from} -> ${size}`).toEqual(hex(consistencyProof(from, prefix)));
      }
    }
  });

  it('reads O(log n) rows in at most five queries per head or proof as the log grows', async () => {
    const measured: { size: number; rows: number; queries: number }[] = [];
    for (const size of [306, 1024, 4100]) {
      if (leaves.length < size) {
        await appendRaw(size);
        await log.syncSubtrees();
      }
      await counted.treeHead(); // signs and stores this size's head
      const last = receiptIds[size - 1];
      const calls: (() => Promise<unknown>)[] = [
        () => counted.treeHead(),
        () => counted.inclusionProof(receiptIds[0]),
        () => counted.inclusionProof(last),
        () => counted.inclusionProof(receiptIds[Math.floor(size / 3)], size),
        () => counted.consistencyProof(1, size),
        () => counted.consistencyProof(Math.floor(size / 2) + 1, size),
      ];
      let rows = 0;
      let queries = 0;
      for (const call of calls) {
        const c = await cost(call);
        rows = Math.max(rows, c.rows);
        queries = Math.max(queries, c.queries);
      }
      measured.push({ size, rows, queries });
      // popcount-many nodes for a root, about two per level for a proof, plus the head and entry rows.
      expect(rows, `rows read per call at size ${size}`).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)) + 6);
      expect(queries, `queries per call at size ${size}`).toBeLessThanOrEqual(5);
    }
    if (process.env.SHOW_LOG_COST) console.log(JSON.stringify(measured));
    // 13 times the leaves, yet a call reads only a few more rows (reading every leaf, it read 2n).
    expect(measured[2].rows - measured[0].rows).toBeLessThanOrEqual(2 * (Math.ceil(Math.log2(4100)) - Math.ceil(Math.log2(306))) + 2);
    const last = await log.inclusionProof(receiptIds[4099]);
    expect(last.hashes).toEqual(hex(inclusionProof(4099, leaves)));
  });
});
