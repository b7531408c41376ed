// The append-only transparency log in Postgres: serialised appends, signed tree heads, proofs and
// chain anchors. Proofs read every leaf up to the tree size: O(n) per request, fine for now.
import { and, asc, desc, eq, isNotNull, isNull, lt, max, sql } from 'drizzle-orm';
import { type Db, type DbOrTx, type Tx, inTransaction } from '../db/database.js';
import { AppError, notFound } from '../errors/app-error.js';
import type { ConsistencyProof, InclusionProof, SignedTreeHead } from './log-types.js';
import * as merkle from './merkle.js';
import { logEntries, treeHeads } from './receipts-schema.js';
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
  /** Leaf hashes 0..size-1 in order; a gap or a missing entry means the log is damaged. */
  async function leaves(size?: number): Promise<merkle.Hash[]> {
    const rows = await db
      .select({ idx: logEntries.idx, leafHash: logEntries.leafHash })
      .from(logEntries)
      .where(size === undefined ? undefined : lt(logEntries.idx, size))
      .orderBy(asc(logEntries.idx));
    rows.forEach((r, i) => {
      if (r.idx !== i) throw new Error(`transparency log has a gap: entry ${i} is missing`);
    });
    if (size !== undefined && rows.length !== size) throw new Error(`transparency log has ${rows.length} entries, not ${size}`);
    return rows.map((r) => merkle.fromHex(r.leafHash));
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
      return inTransaction(on, async (tx) => {
        await lockLogForAppend(tx);
        const [row] = await tx.select({ top: max(logEntries.idx) }).from(logEntries);
        const idx = row?.top === null || row?.top === undefined ? 0 : Number(row.top) + 1;
        const built = await build(idx);
        merkle.fromHex(built.leafHash);
        await tx.insert(logEntries).values({ idx, leafHash: built.leafHash, receiptId });
        return { ...built, idx };
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

    /** The signed head of the whole log now; signed and stored once per size, then reused. */
    async treeHead(): Promise<SignedTreeHead> {
      const all = await leaves();
      const size = all.length;
      const root = merkle.toHex(merkle.rootHash(all));
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
      const hashes = merkle.inclusionProof(entry.idx, await leaves(head.tree_size)).map(merkle.toHex);
      return { receipt_id: receiptId, log_index: entry.idx, leaf_hash: entry.leafHash, tree_size: head.tree_size, hashes, tree_head: head };
    },

    /** Proof that the tree of size `from` is a prefix of the tree of size `to` (0 < from <= to <= size). */
    async consistencyProof(from: number, to: number): Promise<ConsistencyProof> {
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) {
        throw new AppError('invalid_request', `no consistency proof from size ${from} to size ${to}`);
      }
      const size = await currentSize();
      if (to > size) throw new AppError('invalid_request', `the log has ${size} entries, fewer than ${to}`);
      const hashes = merkle.consistencyProof(from, await leaves(to)).map(merkle.toHex);
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
