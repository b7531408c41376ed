// Prepares one migrated template database per run; each test file clones it, so files run in parallel.
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.js';
import { databaseUrl, withAdmin } from '../helpers/postgres-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
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
  return async () => {
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
