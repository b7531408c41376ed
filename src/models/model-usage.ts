// How much each model is used: succeeded jobs and the tokens they processed, summed in one query.
// Counts only, never who ran them.
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';

export interface ModelUsage {
  jobs: number;
  tokens: number;
  last_30_days: { jobs: number; tokens: number };
}

export const NO_USAGE: ModelUsage = { jobs: 0, tokens: 0, last_30_days: { jobs: 0, tokens: 0 } };

/**
 * The usage of each of `modelIds` (every id is in the answer, zero when unused): all succeeded
 * jobs and their input + output tokens, over all time and over the last 30 days, in one GROUP BY
 * over jobs (jobs_model_succeeded_idx keeps it to the succeeded rows of these models).
 */
export async function modelUsages(db: DbOrTx, modelIds: readonly string[]): Promise<Map<string, ModelUsage>> {
  const usages = new Map<string, ModelUsage>(modelIds.map((id) => [id, NO_USAGE]));
  if (modelIds.length === 0) return usages;
  const result = (await db.execute(sql`
    SELECT model_id,
           count(*) AS jobs,
           coalesce(sum(input_tokens + coalesce(output_tokens, 0)), 0) AS tokens,
           count(*) FILTER (WHERE finished_at > now() - interval '30 days') AS jobs_30d,
           coalesce(sum(input_tokens + coalesce(output_tokens, 0)) FILTER (WHERE finished_at > now() - interval '30 days'), 0) AS tokens_30d
    FROM jobs
    WHERE status = 'succeeded' AND model_id IN ${[...new Set(modelIds)]}
    GROUP BY model_id`)) as unknown as {
    rows: { model_id: string; jobs: string | number; tokens: string | number; jobs_30d: string | number; tokens_30d: string | number }[];
  };
  for (const r of result.rows) {
    usages.set(r.model_id, {
      jobs: Number(r.jobs),
      tokens: Number(r.tokens),
      last_30_days: { jobs: Number(r.jobs_30d), tokens: Number(r.tokens_30d) },
    });
  }
  return usages;
}

/** The usage of one model (see modelUsages). */
export async function modelUsage(db: DbOrTx, modelId: string): Promise<ModelUsage> {
  return (await modelUsages(db, [modelId])).get(modelId) ?? NO_USAGE;
}
