// Operator and verifier commands: `posthuman migrate`, and more as the gateway grows.
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/config.js';
import { openDatabase } from './db/database.js';
import { DEFAULT_MODEL_PRICES, registerModel } from './models/model-registration.js';

const USAGE = `usage: posthuman <command>

commands:
  migrate    apply database migrations (DATABASE_URL, or the embedded database in POSTHUMAN_DATA_DIR)
  model-add  <dir> [--id ID] [--name NAME] [--price-per-job MICRO] [--price-per-1k-tokens MICRO] [--owner ACCOUNT_ID]
             validate a GPT-2 ONNX model folder (an Optimum export or npm run model:tiny), store its
             weights by sha256 under POSTHUMAN_DATA_DIR/weights and register it
`;

async function modelAdd(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      'price-per-job': { type: 'string' },
      'price-per-1k-tokens': { type: 'string' },
      owner: { type: 'string' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('model-add needs the model folder');
  const micro = (v: string | undefined, fallback: bigint, flag: string) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`${flag} must be whole micro-credits`);
    return BigInt(v);
  };
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    const id = values.id ?? basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]/g, '-');
    const model = await registerModel(database.db, config.dataDir, {
      id,
      name: values.name,
      sourceDir: resolve(dir),
      pricePerJob: micro(values['price-per-job'], DEFAULT_MODEL_PRICES.pricePerJob, '--price-per-job'),
      pricePer1kTokens: micro(values['price-per-1k-tokens'], DEFAULT_MODEL_PRICES.pricePer1kTokens, '--price-per-1k-tokens'),
      ownerAccountId: values.owner ?? null,
    });
    process.stdout.write(
      `${JSON.stringify({ id: model.id, weights_sha256: model.weightsSha256, context_length: model.contextLength, architecture: model.architecture }, null, 2)}\n`,
    );
  } finally {
    await database.close();
  }
}

async function migrate() {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    process.stdout.write(`migrations applied (${database.kind})\n`);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]) {
  const [command] = argv;
  switch (command) {
    case 'migrate':
      return migrate();
    case 'model-add':
      return modelAdd(argv.slice(1));
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err instanceof ConfigError ? `configuration error: ${err.message}` : (err?.stack ?? String(err))}\n`);
  process.exit(1);
});
