// Operator and verifier commands: `posthuman migrate`, `model-add`, and `verify` (a receipt).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getAddress, isAddress } from 'ethers';
import { ConfigError, loadConfig } from './config/config.js';
import {
  checkReceiptAtGateway,
  getJson,
  isTrustedKeys,
  jsonRpcOverHttp,
  KeysUnavailableError,
  parseMarketplaceDocument,
  type ReceiptReport,
  type TrustPins,
  type TrustReport,
} from './verifier/index.js';

const USAGE = `usage: posthuman <command>

commands:
  migrate    apply database migrations (DATABASE_URL, or the embedded database in POSTHUMAN_DATA_DIR)
  model-add  <dir> [--id ID] [--name NAME] [--price-per-job MICRO] [--price-per-1k-tokens MICRO] [--owner ACCOUNT_ID]
             validate a GPT-2 ONNX model folder (an Optimum export or npm run model:tiny), store its
             weights by sha256 under POSTHUMAN_DATA_DIR/weights and register it
  model-backend <id> (--ocean-node URL | --marketplace)
             run the model's jobs on an external Ocean compute node paid through Escrow (the
             marketplace's own models only), or back on the marketplace's workers
  verify     <receipt-file | receipt-id | -> [--gateway URL] [--api-key KEY] [--rpc URL]
             [--marketplace FILE] [--jwks FILE] [--log-nft ADDRESS] [--anchorer ADDRESS]
             [--consumer ADDRESS] [--json]
             check a receipt: signature, attestation, weights and order on chain, log inclusion
             under an anchored tree head (posthuman verify --help for details)
  reconcile-chain [--gateway URL] [--json]
             compare the ledger's deposit and payout books with the chain; print every difference
`;

const VERIFY_USAGE = `usage: posthuman verify <receipt-file | receipt-id | -> [options]

Checks a receipt: its signature and the worker's attestation (JWKS), the model's weights sha256 and
DID and the job's Ocean order (chain), and its inclusion in the transparency log under the newest
tree head anchored on chain by the marketplace's anchoring address on its log NFT.

What it trusts is printed first. Pinned values come from you; anything not pinned is read from the
gateway being checked (its /.well-known/posthuman-marketplace.json and JWKS), which then vouches for
itself. Save that document once (curl $GATEWAY/.well-known/posthuman-marketplace.json > marketplace.json)
and pass --marketplace marketplace.json to trust nothing the gateway says later.

  <receipt-file>        the compact JWS, or JSON with a "jws" field (a job answer or GET /v1/receipts/{id})
  <receipt-id>          fetched from the gateway with an API key of the account that owns it
  -                     read the receipt from stdin

options:
  --gateway URL         the gateway for tree head, proofs and receipts (default http://127.0.0.1:8080)
  --api-key KEY         API key to fetch a receipt by id (default: env POSTHUMAN_API_KEY)
  --rpc URL             chain JSON-RPC to check weights, order and anchor (default: env CHAIN_RPC_URL)
  --marketplace FILE    pin the marketplace's identity: a saved /.well-known/posthuman-marketplace.json
                        (chain, log NFT, anchoring, consumer and provider addresses, JWKS URL)
  --jwks FILE           pin these keys (a JWKS or one JWK) instead of fetching the JWKS
  --log-nft ADDRESS     pin the log NFT anchors must be written to (overrides --marketplace)
  --anchorer ADDRESS    pin the wallet anchors must be sent by (overrides --marketplace)
  --consumer ADDRESS    pin the wallet the order must come from (overrides --marketplace)
  --json                print the report (checks and trust) as JSON

exit status: 0 every check passed, 1 a check failed, 2 usage error or the receipt or keys could not be read
`;

/** Where a model's jobs run; an owner-uploaded model is refused an Ocean compute node. */
async function modelBackend(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'ocean-node': { type: 'string' }, marketplace: { type: 'boolean' } } });
  const id = positionals[0];
  const node = values['ocean-node'];
  if (!id || (node === undefined) === (values.marketplace !== true)) {
    process.stderr.write('posthuman model-backend: give the model id and one of --ocean-node URL or --marketplace\n');
    return 2;
  }
  const { openDatabase } = await import('./db/database.js');
  const { setComputeBackend } = await import('./models/compute-backend.js');
  const { AppError } = await import('./errors/app-error.js');
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    const model = await setComputeBackend(database.db, id, node === undefined ? { backend: 'marketplace' } : { backend: 'ocean-node', nodeUrl: node });
    process.stdout.write(`${JSON.stringify({ id: model.id, compute_backend: model.computeBackend, compute_node_url: model.computeNodeUrl }, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(`posthuman model-backend: ${err.message}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

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
  // The database and the model runtime load only for the commands that use them (verify starts faster).
  const { openDatabase } = await import('./db/database.js');
  const { DEFAULT_MODEL_PRICES, registerModel } = await import('./models/model-registration.js');
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
  const { openDatabase } = await import('./db/database.js');
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    process.stdout.write(`migrations applied (${database.kind})\n`);
  } finally {
    await database.close();
  }
}

/** The receipt or the keys could not be obtained: there is nothing to check (exit 2). */
class VerifyInputError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function jwsFromText(text: string, source: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  let doc: { jws?: unknown; receipt?: { jws?: unknown } | null };
  try {
    doc = JSON.parse(trimmed);
  } catch (err) {
    throw new VerifyInputError(`${source} is neither a compact JWS nor JSON: ${(err as Error).message}`);
  }
  const jws = doc.jws ?? doc.receipt?.jws;
  if (typeof jws !== 'string') throw new VerifyInputError(`${source} has no "jws" field (nor "receipt.jws")`);
  return jws;
}

async function loadReceipt(arg: string, gateway: string, apiKey: string | undefined): Promise<string> {
  if (arg === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
    return jwsFromText(Buffer.concat(chunks).toString('utf8'), 'stdin');
  }
  if (existsSync(arg)) return jwsFromText(await readFile(arg, 'utf8'), arg);
  if (!UUID.test(arg)) throw new VerifyInputError(`no receipt file ${arg} (and it is not a receipt id)`);
  if (!apiKey) throw new VerifyInputError('fetching a receipt by id needs --api-key or POSTHUMAN_API_KEY');
  const answer = await getJson(`${gateway}/v1/receipts/${arg}`, { authorization: `Bearer ${apiKey}` }).catch((err) => {
    throw new VerifyInputError(err.message);
  });
  return jwsFromText(JSON.stringify(answer), `receipt ${arg}`);
}

async function readJsonFile(path: string, flag: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new VerifyInputError(`${flag} ${path}: ${(err as Error).message}`);
  }
}

/** What the user pinned: a saved marketplace document, keys, single addresses. */
async function loadPins(values: ReturnType<typeof parseVerifyArgs>['values']): Promise<TrustPins> {
  const pins: TrustPins = {};
  if (values.marketplace) {
    const raw = await readJsonFile(values.marketplace, '--marketplace');
    try {
      pins.document = { value: parseMarketplaceDocument(raw), source: values.marketplace };
    } catch (err) {
      throw new VerifyInputError(`--marketplace ${values.marketplace}: not a marketplace document: ${(err as Error).message}`);
    }
  }
  if (values.jwks) {
    const keys = await readJsonFile(values.jwks, '--jwks');
    if (!isTrustedKeys(keys)) throw new VerifyInputError(`--jwks ${values.jwks}: not a JWKS or a JWK`);
    pins.keys = { value: keys, source: values.jwks };
  }
  if (values['log-nft']) pins.logNft = { value: getAddress(values['log-nft']), source: '--log-nft' };
  if (values.anchorer) pins.anchorer = { value: getAddress(values.anchorer), source: '--anchorer' };
  if (values.consumer) pins.consumer = { value: getAddress(values.consumer), source: '--consumer' };
  return pins;
}

function printTrust(trust: TrustReport) {
  process.stdout.write(`identity: ${trust.identity}\n`);
  process.stdout.write(`keys: ${trust.keys}\n`);
  const rows: [string, TrustReport['fields'][keyof TrustReport['fields']]][] = [
    ['chain', trust.fields.chain_id],
    ['log NFT', trust.fields.log_nft],
    ['anchorer', trust.fields.anchorer],
    ['consumer', trust.fields.consumer],
    ['provider', trust.fields.provider],
  ];
  for (const [name, f] of rows) {
    process.stdout.write(`  ${name.padEnd(9)} ${String(f.value ?? '-').padEnd(42)} ${f.pinned ? `pinned (${f.source})` : f.value === null ? 'unknown' : 'from the gateway (not pinned)'}\n`);
  }
}

function printReport(report: ReceiptReport, trust: TrustReport) {
  printTrust(trust);
  const r = report.receipt;
  if (r) process.stdout.write(`receipt ${r.receipt_id} (job ${r.job_id}, log entry ${r.log_index})\n`);
  for (const c of report.checks) process.stdout.write(`${c.ok ? 'pass' : 'FAIL'}  ${c.check}  ${c.detail}\n`);
  const failed = report.checks.filter((c) => !c.ok);
  process.stdout.write(
    failed.length === 0
      ? `verified: all ${report.checks.length} checks passed\n`
      : `NOT VERIFIED: ${failed.length} of ${report.checks.length} checks failed (${failed.map((c) => c.check).join(', ')})\n`,
  );
  if (failed.length === 0 && !trust.pinned) {
    process.stdout.write("note: the gateway vouched for what was not pinned; pin it with --marketplace FILE (and --jwks FILE)\n");
  }
}

/** `posthuman verify`: returns the exit status. */
async function verify(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseVerifyArgs>;
  try {
    parsed = parseVerifyArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${VERIFY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(VERIFY_USAGE);
    return 0;
  }
  const usage = (message: string) => {
    process.stderr.write(`${message}\n${VERIFY_USAGE}`);
    return 2;
  };
  if (positionals.length !== 1) return usage('verify takes exactly one receipt (a file, an id, or - for stdin)');
  const gateway = (values.gateway ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!URL.canParse(gateway)) return usage(`--gateway ${gateway} is not a URL`);
  for (const flag of ['consumer', 'log-nft', 'anchorer'] as const) {
    const value = values[flag];
    if (value !== undefined && !isAddress(value)) return usage(`--${flag} ${value} is not an address`);
  }
  // CHAIN_RPC_URL may list fallbacks (comma-separated): the verifier reads from the first.
  const rpcUrl = values.rpc || process.env.CHAIN_RPC_URL?.split(',')[0]?.trim() || undefined;
  if (rpcUrl !== undefined && !URL.canParse(rpcUrl)) return usage(`--rpc ${rpcUrl} is not a URL`);

  if (!rpcUrl) process.stderr.write('posthuman verify: no chain RPC (--rpc or CHAIN_RPC_URL): the chain checks fail\n');
  let checked: Awaited<ReturnType<typeof checkReceiptAtGateway>>;
  try {
    const jws = await loadReceipt(positionals[0], gateway, values['api-key'] || process.env.POSTHUMAN_API_KEY || undefined);
    checked = await checkReceiptAtGateway({ jws, gateway, rpc: rpcUrl ? jsonRpcOverHttp(rpcUrl) : null, pins: await loadPins(values) });
  } catch (err) {
    if (!(err instanceof VerifyInputError) && !(err instanceof KeysUnavailableError)) throw err;
    process.stderr.write(`posthuman verify: ${err.message}\n`);
    return 2;
  }
  const { report, trust } = checked;
  if (values.json) process.stdout.write(`${JSON.stringify({ ...report, trust: trust.report }, null, 2)}\n`);
  else printReport(report, trust.report);
  return report.ok ? 0 : 1;
}

function parseVerifyArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      gateway: { type: 'string' },
      'api-key': { type: 'string' },
      rpc: { type: 'string' },
      jwks: { type: 'string' },
      marketplace: { type: 'string' },
      'log-nft': { type: 'string' },
      anchorer: { type: 'string' },
      consumer: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function main(argv: string[]) {
  const [command] = argv;
  switch (command) {
    case 'migrate':
      return migrate();
    case 'model-add':
      return modelAdd(argv.slice(1));
    case 'model-backend':
      process.exitCode = await modelBackend(argv.slice(1));
      return;
    case 'verify':
      process.exitCode = await verify(argv.slice(1));
      return;
    case 'reconcile-chain': {
      const { reconcileCommand } = await import('./wallet/reconcile-command.js');
      process.exitCode = await reconcileCommand(argv.slice(1));
      return;
    }
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
