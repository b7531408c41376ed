// A model's lineage: the models it was fine-tuned from, nearest first, read in one recursive query.
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { MAX_LINEAGE_DEPTH, type LineageAncestor } from '../credits/revenue-split.js';

export interface ModelAncestor extends LineageAncestor {
  /** 1 for the parent, 2 for the grandparent, … */
  depth: number;
}

/**
 * The ancestors of each of `modelIds` (parent first), at most `maxDepth` generations, in one
 * WITH RECURSIVE query over models.parent_model_id. A walk ends at a model without a parent, at a
 * parent id missing from the registry, and before any model it has already visited (the model
 * itself included), so a cycle can neither loop nor pay anyone twice. Every id is in the answer.
 */
export async function modelLineages(
  db: DbOrTx,
  modelIds: readonly string[],
  maxDepth = MAX_LINEAGE_DEPTH,
): Promise<Map<string, ModelAncestor[]>> {
  const lineages = new Map<string, ModelAncestor[]>(modelIds.map((id) => [id, []]));
  if (modelIds.length === 0 || maxDepth < 1) return lineages;
  const result = (await db.execute(sql`
    WITH RECURSIVE lineage(root, id, owner_account_id, royalty_bps, parent_model_id, depth, path) AS (
      SELECT m.id, p.id, p.owner_account_id, p.royalty_bps, p.parent_model_id, 1, ARRAY[m.id, p.id]
      FROM models m JOIN models p ON p.id = m.parent_model_id
      WHERE m.id IN ${[...new Set(modelIds)]} AND p.id <> m.id
      UNION ALL
      SELECT l.root, p.id, p.owner_account_id, p.royalty_bps, p.parent_model_id, l.depth + 1, l.path || p.id
      FROM lineage l JOIN models p ON p.id = l.parent_model_id
      WHERE l.depth < ${maxDepth} AND NOT (p.id = ANY(l.path))
    )
    SELECT root, id, owner_account_id, royalty_bps, depth FROM lineage ORDER BY root, depth`)) as unknown as {
    rows: { root: string; id: string; owner_account_id: string | null; royalty_bps: number | string; depth: number | string }[];
  };
  for (const r of result.rows) {
    lineages.get(r.root)?.push({
      modelId: r.id,
      ownerAccountId: r.owner_account_id,
      royaltyBps: Number(r.royalty_bps),
      depth: Number(r.depth),
    });
  }
  return lineages;
}

/** The ancestors of one model, nearest first (see modelLineages). */
export async function modelAncestors(db: DbOrTx, modelId: string, maxDepth = MAX_LINEAGE_DEPTH): Promise<ModelAncestor[]> {
  return (await modelLineages(db, [modelId], maxDepth)).get(modelId) ?? [];
}
