// The append-only transparency log in Postgres: serialised appends, signed tree heads, proofs and
// chain anchors. Each append also stores the perfect subtrees it completes (log_nodes), so a head
// or proof of any size reads O(log n) rows in a fixed number of queries.
import { and, asc, desc, eq, gte, isNotNull, isNull, lt, max, type SQL, sql } from 'drizzle-orm';
import { type Db, type DbOrTx, type Tx, inTransaction, rowsOf } from '../db/database.js';
import { AppError, notFound } from '../errors/app-error.js';
import type { ConsistencyProof, InclusionProof, SignedTreeHead } from './log-types.js';
import * as merkle from './merkle.js';
import {
  auditPath,
  consistencyPath,
  frontier,
  type SubtreeId,
  type SubtreeSource,
  subtreesCompletedBy,
  subtreesRead,
  treeRoot,
} from './merkle-subtrees.js';
import { logEntries, logNodes, treeHeads } from './receipts-schema.js';
import type { JwsSigner } from './signing-keys.js';
import { signTreeHead } from './tree-head.js';

// One constant for every replica: the whole log has a single append point.
export const LOG_APPEND_LOCK_ID = 727_101;

/**
 * Takes the log's append lock for the rest of `tx`. Appends then commit in index order, so a
 * reader never sees a gap, and a rolled-back append frees its index for the next one.
 */
export async function lockLogForAppend(tx: Tx): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOG_APPEND_LOCK_ID})`);
}

type HeadRow = typeof treeHeads.$inferSelect;

/** Leaves hashed into log_nodes per statement when catching up on a log without them. */
const CATCH_UP_CHUNK = 1000;

class MissingSubtreeError extends Error {
  constructor(id: SubtreeId) {
    super(`transparency log node ${id.level}/${id.index} is missing`);
    this.name = 'MissingSubtreeError';
  }
}

const subtreeKey = (level: number, index: number) => `${level}:${index}`;

/** Reads the named subtree roots in one query; the source throws for any that is not stored. */
async function readSubtrees(db: DbOrTx, ids: SubtreeId[]): Promise<{ source: SubtreeSource; found: number }> {
  const rows = ids.length
    ? await db
        .select({ level: logNodes.level, idx: logNodes.idx, hash: logNodes.hash })
        .from(logNodes)
        .where(
          sql`(${logNodes.level}, ${logNodes.idx}) IN (${sql.join(
            ids.map((id) => sql`(${id.level}::integer, ${id.index}::bigint)`),
            sql`, `,
          )})`,
        )
    : [];
  const hashes = new Map(rows.map((r) => [subtreeKey(r.level, r.idx), merkle.fromHex(r.hash)]));
  const source: SubtreeSource = (level, index) => {
    const hash = hashes.get(subtreeKey(level, index));
    if (!hash) throw new MissingSubtreeError({ level, index });
    return hash;
  };
  return { source, found: hashes.size };
}

/** Stores the subtrees that leaves `first`… complete, reading only the frontier of `first`. */
async function storeSubtrees(tx: Tx, first: number, leafHashes: string[]): Promise<void> {
  const { source, found } = await readSubtrees(tx, frontier(first));
  if (found !== frontier(first).length) throw new MissingSubtreeError(frontier(first)[0]);
  const made = subtreesCompletedBy(first, leafHashes.map(merkle.fromHex), source);
  for (let i = 0; i < made.length; i += 2 * CATCH_UP_CHUNK) {
    await tx
      .insert(logNodes)
      .values(made.slice(i, i + 2 * CATCH_UP_CHUNK).map((n) => ({ level: n.level, idx: n.index, hash: merkle.toHex(n.hash) })));
  }
}

/**
 * Brings log_nodes up to the first `size` leaves (a log written before the table existed, or by
 * an older process); idempotent. The caller holds the append lock.
 */
async function catchUpSubtrees(tx: Tx, size: number): Promise<void> {
  const [row] = await tx.select({ top: max(logNodes.idx) }).from(logNodes).where(eq(logNodes.level, 0));
  let next = row?.top === null || row?.top === undefined ? 0 : Number(row.top) + 1;
  while (next < size) {
    const rows = await tx
      .select({ idx: logEntries.idx, leafHash: logEntries.leafHash })
      .from(logEntries)
      .where(and(gte(logEntries.idx, next), lt(logEntries.idx, Math.min(size, next + CATCH_UP_CHUNK))))
      .orderBy(asc(logEntries.idx));
    rows.forEach((r, i) => {
      if (r.idx !== next + i) throw new Error(`transparency log has a gap: entry ${next + i} is missing`);
    });
    if (rows.length === 0) throw new Error(`transparency log has a gap: entry ${next} is missing`);
    await storeSubtrees(
      tx,
      next,
      rows.map((r) => r.leafHash),
    );
    next += rows.length;
  }
}

/** Levels a log of up to 2^62 entries has; the last stored node of each is read in one query. */
const LEVELS = 62;

/**
 * Takes the append lock, then reads the next index and the frontier of the tree so far in one
 * query (the newest stored node of every level: for a log whose nodes are complete, the frontier
 * is among them). Entries without their nodes (an older log) are hashed in first.
 */
async function openAppend(tx: Tx): Promise<{ next: number; source: SubtreeSource }> {
  await lockLogForAppend(tx);
  const result = await tx.execute(sql`
    SELECT (SELECT max(idx) FROM log_entries) AS top,
      (SELECT coalesce(json_agg(json_build_array(l.level, x.idx, x.hash)), '[]'::json)
         FROM generate_series(0, ${LEVELS}) AS l(level)
         CROSS JOIN LATERAL (SELECT idx, hash FROM log_nodes WHERE level = l.level ORDER BY idx DESC LIMIT 1) AS x) AS nodes`);
  const [row] = rowsOf(result as unknown as { rows: { top: string | number | null; nodes: [number, number | string, string][] }[] });
  const next = row?.top === null || row?.top === undefined ? 0 : Number(row.top) + 1;
  const last = new Map((row?.nodes ?? []).map(([level, idx, hash]) => [level, { idx: Number(idx), hash }]));
  const ids = frontier(next);
  if (ids.every((id) => last.get(id.level)?.idx === id.index)) {
    const hashes = new Map(ids.map((id) => [subtreeKey(id.level, id.index), merkle.fromHex(last.get(id.level)?.hash ?? '')]));
    const source: SubtreeSource = (level, index) => {
      const hash = hashes.get(subtreeKey(level, index));
      if (!hash) throw new MissingSubtreeError({ level, index });
      return hash;
    };
    return { next, source };
  }
  // Entries below `next` lack their nodes: hash them in now, then read the frontier they made.
  await catchUpSubtrees(tx, next);
  const { source, found } = await readSubtrees(tx, ids);
  if (found !== ids.length) throw new MissingSubtreeError(ids[0]);
  return { next, source };
}

function toSignedHead(row: HeadRow): SignedTreeHead {
  return {
    tree_size: row.treeSize,
    root_hash: row.rootHash,
    timestamp: row.createdAt.toISOString(),
    signature: row.signature,
    anchor: row.anchorTxHash !== null && row.anchorChainId !== null ? { tx_hash: row.anchorTxHash, chain_id: row.anchorChainId } : null,
  };
}

export type TransparencyLog = ReturnType<typeof createTransparencyLog>;

export function createTransparencyLog({ db, signer }: { db: Db; signer: JwsSigner }) {
  /**
   * Runs a root or proof computation over stored subtrees: one query for exactly the nodes it
   * reads. A node missing means entries were appended without their nodes (a log from before
   * log_nodes, or an older process): catch up once and retry; still missing means damage.
   */
  async function fromSubtrees<T>(compute: (node: SubtreeSource) => T): Promise<T> {
    const ids = subtreesRead(compute);
    try {
      return compute((await readSubtrees(db, ids)).source);
    } catch (err) {
      if (!(err instanceof MissingSubtreeError)) throw err;
    }
    await log.syncSubtrees();
    return compute((await readSubtrees(db, ids)).source);
  }

  async function storedHead(size: number): Promise<HeadRow | undefined> {
    const [row] = await db.select().from(treeHeads).where(eq(treeHeads.treeSize, size));
    return row;
  }

  async function currentSize(): Promise<number> {
    const [row] = await db.select({ top: max(logEntries.idx) }).from(logEntries);
    return row?.top === null || row?.top === undefined ? 0 : Number(row.top) + 1;
  }

  const log = {
    /**
     * Appends a leaf whose hash depends on its own index: `build(idx)` runs while the append lock
     * is held, so a receipt can carry its log index inside the signed payload. All of it happens
     * in `on` (the caller's transaction, or a new one), so a crash or rollback leaves nothing.
     */
    async appendWithIndex<T extends { leafHash: string }>(
      receiptId: string,
      build: (idx: number) => Promise<T>,
      on: DbOrTx = db,
    ): Promise<T & { idx: number }> {
      const [entry] = await log.appendBatch(async (first) => [{ ...(await build(first)), receiptId }], on);
      return entry;
    },

    /**
     * Group commit: appends the leaves `build(first)` returns at `first`, `first + 1`, … with one
     * acquisition of the append lock, one read of the next index and the frontier, and one
     * statement writing the entries, the subtrees they complete and `alsoWrite`'s statements (the
     * caller's rows that must commit with the leaves, e.g. the receipts). Runs in `on`, so a
     * rollback leaves nothing and frees the indexes.
     */
    async appendBatch<T extends { leafHash: string; receiptId: string }>(
      build: (first: number) => Promise<T[]>,
      on: DbOrTx = db,
      alsoWrite: (entries: (T & { idx: number })[]) => SQL[] = () => [],
    ): Promise<(T & { idx: number })[]> {
      return inTransaction(on, async (tx) => {
        const { next, source } = await openAppend(tx);
        const built = await build(next);
        if (built.length === 0) return [];
        const leaves = built.map((b) => merkle.fromHex(b.leafHash));
        const entries = built.map((b, i) => ({ ...b, idx: next + i }));
        const nodes = subtreesCompletedBy(next, leaves, source).map((n) => ({ level: n.level, idx: n.index, hash: merkle.toHex(n.hash) }));
        const rows = entries.map((e) => ({ idx: e.idx, leaf_hash: e.leafHash, receipt_id: e.receiptId }));
        const writes = [
          sql`INSERT INTO log_entries (idx, leaf_hash, receipt_id)
              SELECT idx, leaf_hash, receipt_id FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(idx bigint, leaf_hash text, receipt_id uuid)`,
          sql`INSERT INTO log_nodes (level, idx, hash)
              SELECT level, idx, hash FROM jsonb_to_recordset(${JSON.stringify(nodes)}::jsonb) AS r(level integer, idx bigint, hash text)`,
          ...alsoWrite(entries),
        ];
        await tx.execute(sql`WITH ${sql.join(
          writes.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`),
          sql`, `,
        )} SELECT 1`);
        return entries;
      });
    },

    /** Appends a leaf hash (hex) for a receipt; returns its index. */
    async append(receiptId: string, leafHashHex: string, on: DbOrTx = db): Promise<number> {
      const { idx } = await log.appendWithIndex(receiptId, async () => ({ leafHash: leafHashHex }), on);
      return idx;
    },

    async size(): Promise<number> {
      return currentSize();
    },

    /** Stores the subtree nodes of every entry that lacks them (run at start; idempotent). */
    async syncSubtrees(): Promise<void> {
      await db.transaction(async (tx) => {
        await lockLogForAppend(tx);
        const [row] = await tx.select({ top: max(logEntries.idx) }).from(logEntries);
        await catchUpSubtrees(tx, row?.top === null || row?.top === undefined ? 0 : Number(row.top) + 1);
      });
    },

    /** The signed head of the whole log now; signed and stored once per size, then reused. */
    async treeHead(): Promise<SignedTreeHead> {
      const size = await currentSize();
      const root = merkle.toHex(await fromSubtrees((node) => treeRoot(size, node)));
      const existing = await storedHead(size);
      if (existing) {
        if (existing.rootHash !== root) throw new Error(`transparency log root at size ${size} changed since it was signed`);
        return toSignedHead(existing);
      }
      const now = new Date();
      const signature = await signTreeHead(signer, { tree_size: size, root_hash: root, timestamp: now.toISOString() });
      // Two replicas may sign the same size at once; the first stored head is the one served.
      await db
        .insert(treeHeads)
        .values({ treeSize: size, rootHash: root, createdAt: now, signature })
        .onConflictDoNothing({ target: treeHeads.treeSize });
      const stored = await storedHead(size);
      if (!stored || stored.rootHash !== root) throw new Error(`transparency log root at size ${size} disagrees with the stored head`);
      return toSignedHead(stored);
    },

    /** The head of a size that was signed before (e.g. an anchored one), or undefined. */
    async signedHead(treeSize: number): Promise<SignedTreeHead | undefined> {
      const row = await storedHead(treeSize);
      return row && toSignedHead(row);
    },

    /** Proof that a receipt's leaf is in the tree of `treeSize` (a signed size; default: the head now). */
    async inclusionProof(receiptId: string, treeSize?: number): Promise<InclusionProof> {
      const [entry] = await db.select().from(logEntries).where(eq(logEntries.receiptId, receiptId));
      if (!entry) throw notFound('receipt log entry');
      let head: SignedTreeHead;
      if (treeSize === undefined) {
        head = await log.treeHead();
      } else {
        const row = await storedHead(treeSize);
        if (!row) throw notFound(`signed tree head of size ${treeSize}`);
        head = toSignedHead(row);
      }
      if (entry.idx >= head.tree_size) {
        throw new AppError('invalid_request', `receipt entry ${entry.idx} is not in the tree of size ${head.tree_size}`);
      }
      const path = await fromSubtrees((node) => auditPath(entry.idx, head.tree_size, node));
      const hashes = path.map(merkle.toHex);
      return { receipt_id: receiptId, log_index: entry.idx, leaf_hash: entry.leafHash, tree_size: head.tree_size, hashes, tree_head: head };
    },

    /** Proof that the tree of size `from` is a prefix of the tree of size `to` (0 < from <= to <= size). */
    async consistencyProof(from: number, to: number): Promise<ConsistencyProof> {
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) {
        throw new AppError('invalid_request', `no consistency proof from size ${from} to size ${to}`);
      }
      const size = await currentSize();
      if (to > size) throw new AppError('invalid_request', `the log has ${size} entries, fewer than ${to}`);
      const hashes = (await fromSubtrees((node) => consistencyPath(from, to, node))).map(merkle.toHex);
      return { from_size: from, to_size: to, hashes };
    },

    /** Records the chain transaction that anchored a signed head; the same anchor again is a no-op. */
    async recordAnchor(treeSize: number, txHash: string, chainId: number): Promise<SignedTreeHead> {
      const [updated] = await db
        .update(treeHeads)
        .set({ anchorTxHash: txHash, anchorChainId: chainId })
        .where(and(eq(treeHeads.treeSize, treeSize), isNull(treeHeads.anchorTxHash)))
        .returning();
      if (updated) return toSignedHead(updated);
      const row = await storedHead(treeSize);
      if (!row) throw notFound(`signed tree head of size ${treeSize}`);
      if (row.anchorTxHash !== txHash || row.anchorChainId !== chainId) {
        throw new AppError('conflict', `tree head ${treeSize} is already anchored by ${row.anchorTxHash} on chain ${row.anchorChainId}`);
      }
      return toSignedHead(row);
    },

    async latestAnchoredHead(): Promise<SignedTreeHead | undefined> {
      const [row] = await db
        .select()
        .from(treeHeads)
        .where(isNotNull(treeHeads.anchorTxHash))
        .orderBy(desc(treeHeads.treeSize))
        .limit(1);
      return row && toSignedHead(row);
    },
  };
  return log;
}
