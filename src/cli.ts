// Operator and verifier commands: `posthuman migrate`, and more as the gateway grows.
import { ConfigError, loadConfig } from './config/config.js';
import { openDatabase } from './db/database.js';

const USAGE = `usage: posthuman <command>

commands:
  migrate    apply database migrations (DATABASE_URL, or the embedded database in POSTHUMAN_DATA_DIR)
`;

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
