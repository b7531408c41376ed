// Prepares one migrated template database per run; each test file clones it, so files run in parallel.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.js';
import { buildTinyModel } from '../../src/runtime/index.js';
import { databaseUrl, withAdmin } from '../helpers/postgres-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    /** The project's tiny GPT-2, built once per run (deterministic: same weights hash every time). */
    tinyModelDir: string;
  }
}

export default async function setup(project: TestProject) {
  const template = `ph_tmpl_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${template}`));
  const database = await openDatabase({ databaseUrl: databaseUrl(template), dataDir: '/nonexistent', poolMax: 1 });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  project.provide('templateDatabase', template);
  const modelRoot = mkdtempSync(join(tmpdir(), 'posthuman-tiny-'));
  const tinyModelDir = join(modelRoot, 'tiny-gpt2');
  await buildTinyModel(tinyModelDir);
  project.provide('tinyModelDir', tinyModelDir);
  return async () => {
    rmSync(modelRoot, { recursive: true, force: true });
    await withAdmin(async (c) => {
      const { rows } = await c.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`ph_test_${template.slice('ph_tmpl_'.length)}_%`],
      );
      for (const r of rows) await c.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
      await c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    });
  };
}
