// Gives a test file its own database, cloned from the run's migrated template.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { databaseUrl, withAdmin } from './postgres-admin.js';

export interface TestDatabase {
  url: string;
  database: Database;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const name = `ph_test_${template.slice('ph_tmpl_'.length)}_${randomBytes(4).toString('hex')}`;
  // Cloning needs the template to have no other session; retry briefly if another file is cloning.
  for (let attempt = 0; ; attempt++) {
    try {
      await withAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      break;
    } catch (err) {
      if (attempt >= 20 || !String(err).includes('being accessed by other users')) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const url = databaseUrl(name);
  const database = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', poolMax: 20 });
  return {
    url,
    database,
    async drop() {
      await database.close();
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
