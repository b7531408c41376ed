// Writes openapi/openapi.json from the app's route schemas (CI regenerates it and fails on a diff).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import type { Database } from '../src/db/database.js';

// Building the document needs no database: a query through this empty stub fails loudly.
const noDatabase: Database = {
  db: {} as Database['db'],
  kind: 'postgres',
  migrate: async () => {},
  ping: async () => {},
  close: async () => {},
};

const out = resolve(process.argv[2] ?? 'openapi/openapi.json');
const app = await buildApp({
  config: loadConfig({ LOG_LEVEL: 'silent', WORKER_IN_PROCESS: 'false', CHAIN: 'off' }),
  database: noDatabase,
  redis: null,
  operatorToken: 'openapi-generation-only-not-a-secret',
  documentOnly: true,
});
await app.ready();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
process.stdout.write(`wrote ${out}\n`);
