// Reads and validates the environment once at boot; a bad value stops the start naming the variable.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { MARKETPLACE_FEE_BPS } from '../jobs/job-pricing.js';

export interface Config {
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: readable lines on a terminal, JSON lines otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  dataDir: string;
  /** Postgres server URL; absent = embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** Redis URL; absent = in-process queue and limits (embedded default). */
  redisUrl: string | undefined;
  redisPrefix: string;
  /** Operator bearer token; absent = generated under dataDir on first start. */
  operatorToken: string | undefined;
  bodyLimitBytes: number;
  /** Largest model archive POST /v1/models accepts. */
  modelUploadLimitBytes: number;
  /** Largest dataset POST /v1/datasets accepts (bytes), and the most documents it may hold. */
  datasetUploadLimitBytes: number;
  datasetMaxDocuments: number;
  publicBaseUrl: string | undefined;
  /** Serve /metrics without a token on this port (bound to HOST); unset: /metrics needs the operator token. */
  metricsPort: number | undefined;
  /** Requests per minute per client address on the public log and verify routes (0 = unlimited). */
  publicRateLimitPerMinute: number;
  /** The marketplace's fee on every job's revenue, in basis points (0..10000); the rest goes to owners. */
  marketplaceFeeBps: number;
  /** The web app at `/` (README: Web app). */
  web: {
    /** A block explorer link for a chain value: `{kind}` becomes address, tx or token, `{value}` the value. */
    explorerUrlPattern: string | undefined;
    /** The JSON-RPC URL browsers read the chain from to verify receipts; unset: the embedded chain's, else none. */
    chainRpcUrl: string | undefined;
  };
  sse: {
    /** Concurrent Server-Sent Events streams one API key may hold open (per gateway process). */
    maxPerKey: number;
    /** A stream open this long gets an `expired` event and is closed. */
    maxLifetimeMs: number;
  };
  jobs: {
    /** Queued jobs beyond this answer 503 with Retry-After instead of growing memory. */
    maxQueueDepth: number;
    /** How long POST /v1/infer and /v1/evaluate wait for the answer before a 202. */
    syncTimeoutMs: number;
  };
  webhooks: {
    /** How often the gateway fans job events out to endpoints and sends due deliveries. */
    sweepIntervalMs: number;
    /** Attempts before a delivery is given up (dead letter); replay starts it over. */
    maxAttempts: number;
    /** Wait before the first retry; each later one doubles it (capped at an hour). */
    retryBaseMs: number;
    /** How long one attempt may take. */
    timeoutMs: number;
    /** Allow endpoints on loopback, private and link-local addresses (development and tests only). */
    allowPrivateUrls: boolean;
  };
  receipts: {
    /** `off` skips receipts and the log (only to measure their cost in benchmarks). */
    enabled: boolean;
    /** How often the gateway anchors a new tree head on chain (0 = only on request). */
    anchorIntervalMs: number;
  };
  chain: {
    /** `off` runs jobs without Ocean orders (development only); `on` orders and validates every job. */
    enabled: boolean;
    /**
     * An existing chain's JSON-RPC URL, or several separated by commas (tried in order when one
     * cannot be reached); unset = the gateway starts an embedded local chain.
     */
    rpcUrl: string | undefined;
    /** Port of the embedded chain's JSON-RPC server (0 = a free one). */
    port: number;
    /** Embedded chain: mine a block every N ms (0 = a block per transaction). */
    blockIntervalMs: number;
    /** Orders placed ahead per model, so a job rarely waits on the chain. */
    orderPoolSize: number;
    /** Orders placed at once to refill the pool: it carries this many / order latency jobs per second. */
    orderPoolRefillConcurrency: number;
    /** How long a worker asks again for an order receipt its RPC does not show yet, before refusing it. */
    orderReceiptWaitMs: number;
    /** How often a worker reads model NFT changes (revocation, weights hash) and the chain's clock. */
    watchIntervalMs: number;
    /** Blocks on top of an order or a log anchor before it counts; unset = the chain's default (0 on a local chain). */
    confirmations: number | undefined;
    /** Floor of the priority fee (gwei, decimals allowed); unset = the chain's default (30 on Polygon, else 0). */
    minPriorityFeeGwei: string | undefined;
    /** A transaction pending this long is sent again, same nonce, fees bumped; unset = the chain's default (15 s local, 30-60 s elsewhere). */
    replaceAfterMs: number | undefined;
  };
  /** Jobs of open models served by an external Ocean compute node, paid through Escrow (README: Ocean compute nodes). */
  oceanNode: {
    /** Per request to a node; a start whose answer does not come in time is never sent again. */
    timeoutMs: number;
    pollMs: number;
    /** Most a node may lock for one job, in OCEAN base units (wei). */
    maxPaymentWei: bigint;
    maxJobSeconds: number;
    /** How often the gateway brings escrow_payments to the chain and cancels expired locks (0 = never by itself). */
    reconcileIntervalMs: number;
  };
  /** Wallet access: Sign-In with Ethereum, credits bought on chain, payouts (README: Wallet access). */
  wallet: {
    /** The domain SIWE messages must name; default the host (and port) of PUBLIC_BASE_URL, else HOST:PORT. */
    siweDomain: string | undefined;
    /** Signs session tokens (HS256); unset = generated once into <data dir>/wallet-session-secret. */
    sessionSecret: string | undefined;
    sessionTtlSeconds: number;
    nonceTtlSeconds: number;
    /** Blocks a deposit (or payout) needs before it counts; unset = 1 on a local chain, 12 elsewhere. */
    confirmations: number | undefined;
    /** Micro-credits one whole OCEAN (10^18 wei) buys; payouts convert back at the same rate. */
    microCreditsPerOcean: bigint;
    /** An optional stablecoin accepted for deposits (never paid out). */
    stablecoin: { address: string; decimals: number; microCreditsPerToken: bigint } | undefined;
    /** First block the deposit watcher reads when it has no cursor yet; unset = the contracts' start block on a local chain, the head elsewhere. */
    startBlock: number | undefined;
    /** How often the gateway reads the chain for deposits and advances payouts (0 = never by itself). */
    watchIntervalMs: number;
    /** The treasury's key on an external network (deposits go to it, payouts come from it). */
    treasuryKey: string | undefined;
    /** Smallest payout, in micro-credits (each one costs the treasury gas). */
    minPayout: bigint;
    /** Rate limit of a key made with a wallet session when the request sets none. */
    keyRateLimitPerMinute: number;
  };
  worker: {
    /** Run the queue consumers inside the gateway process (default: only without REDIS_URL). */
    inProcess: boolean;
    id: string;
    concurrency: number;
    threads: number;
    batchMax: number;
    batchWaitMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    /** Times BullMQ moves a job back after its worker's lock expired before failing it (then the watchdog decides). */
    maxStalledCount: number;
    /** Fault injection for tests: wait this long after claiming a job before running it. */
    faultStartDelayMs: number;
    /** Fault injection for audit tests: serve THIS model folder for every job, unchecked (a cheating worker). */
    faultServeModelDir: string | undefined;
    /** Fraction of succeeded jobs replayed on another worker (0..1). */
    auditFraction: number;
    /** Heartbeat period; a worker counts as dead 3 periods after its last heartbeat. */
    heartbeatMs: number;
    /** How often the watchdog compares unfinished jobs in Postgres with the queue. */
    watchdogIntervalMs: number;
    /** Fresh queue entries a job gets after its entry failed or its worker died; then it fails, hold released. */
    maxRequeues: number;
    /** How long a separate worker waits for the gateway to publish its database identity. */
    gatewayWaitMs: number;
  };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function readUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${url.protocol}`);
  }
  return raw;
}

/** An amount in gwei with at most 9 decimals (whole wei), e.g. `30` or `0.001`. */
function readGwei(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,6}(\.\d{1,9})?$/.test(raw)) throw new ConfigError(name, 'must be an amount in gwei (up to 999999, at most 9 decimals), e.g. 30 or 0.5');
  return raw;
}

/** EXPLORER_URL_PATTERN: an http(s) URL holding `{value}` (and usually `{kind}`), e.g. https://etherscan.io/{kind}/{value} */
function readExplorerPattern(env: Env): string | undefined {
  const raw = env.EXPLORER_URL_PATTERN;
  if (raw === undefined || raw === '') return undefined;
  if (!raw.includes('{value}')) throw new ConfigError('EXPLORER_URL_PATTERN', 'must contain {value} (and usually {kind}), e.g. https://etherscan.io/{kind}/{value}');
  readUrl({ EXPLORER_URL_PATTERN: raw.replaceAll('{kind}', 'address').replaceAll('{value}', '0') }, 'EXPLORER_URL_PATTERN', ['http:', 'https:']);
  return raw;
}

/** A comma-separated list of URLs (each checked as readUrl does), kept as one normalised string. */
function readUrlList(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const urls = raw
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new ConfigError(name, 'holds no URL');
  for (const url of urls) readUrl({ [name]: url }, name, protocols);
  return urls.join(',');
}

function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function readFraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(raw) || value < 0 || value > 1) throw new ConfigError(name, `must be a number from 0 to 1, got "${raw}"`);
  return value;
}

function readBigInt(env: Env, name: string, fallback: bigint, min: bigint): bigint {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,30}$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  if (BigInt(raw) < min) throw new ConfigError(name, `must be at least ${min}, got ${raw}`);
  return BigInt(raw);
}

function readWallet(env: Env): Config['wallet'] {
  const sessionSecret = env.WALLET_SESSION_SECRET || undefined;
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigError('WALLET_SESSION_SECRET', 'must be at least 32 characters');
  }
  const treasuryKey = env.WALLET_TREASURY_KEY || undefined;
  if (treasuryKey !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(treasuryKey)) {
    throw new ConfigError('WALLET_TREASURY_KEY', 'must be a 32-byte hex private key');
  }
  const stableAddress = env.DEPOSIT_STABLECOIN_ADDRESS || undefined;
  if (stableAddress !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(stableAddress)) {
    throw new ConfigError('DEPOSIT_STABLECOIN_ADDRESS', 'must be a 20-byte hex address');
  }
  const siweDomain = env.SIWE_DOMAIN || undefined;
  if (siweDomain !== undefined && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(siweDomain)) {
    throw new ConfigError('SIWE_DOMAIN', 'must be a host name with an optional port, e.g. api.example.com');
  }
  return {
    siweDomain,
    sessionSecret,
    sessionTtlSeconds: readInt(env, 'WALLET_SESSION_TTL_SECONDS', 900, 60, 86_400),
    nonceTtlSeconds: readInt(env, 'SIWE_NONCE_TTL_SECONDS', 600, 30, 86_400),
    confirmations: env.DEPOSIT_CONFIRMATIONS ? readInt(env, 'DEPOSIT_CONFIRMATIONS', 1, 1, 10_000) : undefined,
    microCreditsPerOcean: readBigInt(env, 'DEPOSIT_MICRO_CREDITS_PER_OCEAN', 1_000_000n, 1n),
    stablecoin: stableAddress
      ? {
          address: stableAddress,
          decimals: readInt(env, 'DEPOSIT_STABLECOIN_DECIMALS', 6, 0, 36),
          microCreditsPerToken: readBigInt(env, 'DEPOSIT_MICRO_CREDITS_PER_STABLECOIN', 1_000_000n, 1n),
        }
      : undefined,
    startBlock: env.DEPOSIT_START_BLOCK ? readInt(env, 'DEPOSIT_START_BLOCK', 0, 0, Number.MAX_SAFE_INTEGER) : undefined,
    watchIntervalMs: readInt(env, 'WALLET_WATCH_INTERVAL_MS', 2000, 0, 3_600_000),
    treasuryKey: treasuryKey === undefined || treasuryKey.startsWith('0x') ? treasuryKey : `0x${treasuryKey}`,
    minPayout: readBigInt(env, 'PAYOUT_MIN', 1000n, 1n),
    keyRateLimitPerMinute: readInt(env, 'WALLET_KEY_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env = process.env): Config {
  const operatorToken = env.POSTHUMAN_OPERATOR_TOKEN || undefined;
  if (operatorToken !== undefined && operatorToken.length < 32) {
    throw new ConfigError('POSTHUMAN_OPERATOR_TOKEN', 'must be at least 32 characters');
  }
  const host = env.HOST || '127.0.0.1';
  const redisPrefix = env.REDIS_PREFIX || 'posthuman';
  if (!/^[A-Za-z0-9:_-]+$/.test(redisPrefix)) {
    throw new ConfigError('REDIS_PREFIX', 'may hold only letters, digits, ":", "_" and "-"');
  }
  return {
    port: readInt(env, 'PORT', 8080, 0, 65535),
    host,
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: readEnum(env, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    dataDir: resolve(env.POSTHUMAN_DATA_DIR || './.posthuman'),
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    // A worker runs WORKER_CONCURRENCY jobs at once, each settling in its own transaction: its pool is
    // sized to them (plus room for the watchdog and heartbeat work) unless set.
    databasePoolMax: readInt(env, 'DATABASE_POOL_MAX', Math.max(10, readInt(env, 'WORKER_CONCURRENCY', 16, 1, 1024) + 4), 1, 500),
    redisUrl: readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix,
    operatorToken,
    bodyLimitBytes: readInt(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 256 * 1_048_576),
    modelUploadLimitBytes: readInt(env, 'MODEL_UPLOAD_LIMIT_BYTES', 512 * 1_048_576, 1_048_576, 64 * 1024 * 1_048_576),
    datasetUploadLimitBytes: readInt(env, 'DATASET_UPLOAD_LIMIT_BYTES', 16 * 1_048_576, 1024, 1024 * 1_048_576),
    datasetMaxDocuments: readInt(env, 'DATASET_MAX_DOCUMENTS', 100_000, 1, 10_000_000),
    publicBaseUrl: readUrl(env, 'PUBLIC_BASE_URL', ['http:', 'https:']),
    metricsPort: env.METRICS_PORT ? readInt(env, 'METRICS_PORT', 0, 0, 65535) : undefined,
    publicRateLimitPerMinute: readInt(env, 'PUBLIC_RATE_LIMIT_PER_MINUTE', 300, 0, 1_000_000),
    marketplaceFeeBps: readInt(env, 'MARKETPLACE_FEE_BPS', Number(MARKETPLACE_FEE_BPS), 0, 10_000),
    web: {
      explorerUrlPattern: readExplorerPattern(env),
      chainRpcUrl: readUrl(env, 'WEB_CHAIN_RPC_URL', ['http:', 'https:']),
    },
    sse: {
      maxPerKey: readInt(env, 'SSE_MAX_PER_KEY', 8, 1, 10_000),
      maxLifetimeMs: readInt(env, 'SSE_MAX_LIFETIME_MS', 600_000, 100, 86_400_000),
    },
    jobs: {
      maxQueueDepth: readInt(env, 'QUEUE_MAX_DEPTH', 1000, 1, 1_000_000),
      syncTimeoutMs: readInt(env, 'SYNC_TIMEOUT_MS', 30_000, 0, 600_000),
    },
    webhooks: {
      sweepIntervalMs: readInt(env, 'WEBHOOK_SWEEP_INTERVAL_MS', 1000, 50, 600_000),
      maxAttempts: readInt(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
      retryBaseMs: readInt(env, 'WEBHOOK_RETRY_BASE_MS', 5000, 10, 3_600_000),
      timeoutMs: readInt(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      allowPrivateUrls: readEnum(env, 'WEBHOOK_ALLOW_PRIVATE_URLS', ['true', 'false'] as const, 'false') === 'true',
    },
    receipts: {
      enabled: readEnum(env, 'RECEIPTS', ['on', 'off'] as const, 'on') === 'on',
      anchorIntervalMs: readInt(env, 'ANCHOR_INTERVAL_MS', 60_000, 0, 86_400_000),
    },
    chain: {
      enabled: readEnum(env, 'CHAIN', ['on', 'off'] as const, 'on') === 'on',
      rpcUrl: readUrlList(env, 'CHAIN_RPC_URL', ['http:', 'https:']),
      port: readInt(env, 'CHAIN_PORT', 8545, 0, 65535),
      blockIntervalMs: readInt(env, 'CHAIN_BLOCK_INTERVAL_MS', 0, 0, 3_600_000),
      orderPoolSize: readInt(env, 'ORDER_POOL_SIZE', 4, 0, 1000),
      orderPoolRefillConcurrency: readInt(env, 'ORDER_POOL_REFILL_CONCURRENCY', 8, 1, 256),
      orderReceiptWaitMs: readInt(env, 'ORDER_RECEIPT_WAIT_MS', 10_000, 0, 300_000),
      watchIntervalMs: readInt(env, 'CHAIN_WATCH_INTERVAL_MS', 1000, 100, 600_000),
      confirmations: env.CHAIN_CONFIRMATIONS ? readInt(env, 'CHAIN_CONFIRMATIONS', 0, 0, 1000) : undefined,
      minPriorityFeeGwei: readGwei(env, 'CHAIN_MIN_PRIORITY_FEE_GWEI'),
      replaceAfterMs: env.CHAIN_TX_REPLACE_AFTER_MS ? readInt(env, 'CHAIN_TX_REPLACE_AFTER_MS', 0, 1000, 3_600_000) : undefined,
    },
    oceanNode: {
      timeoutMs: readInt(env, 'OCEAN_NODE_TIMEOUT_MS', 10_000, 100, 300_000),
      pollMs: readInt(env, 'OCEAN_NODE_POLL_MS', 500, 10, 60_000),
      maxPaymentWei: BigInt(readInt(env, 'OCEAN_NODE_MAX_PAYMENT_MILLI_OCEAN', 10_000, 0, 1_000_000_000)) * 10n ** 15n,
      maxJobSeconds: readInt(env, 'OCEAN_NODE_MAX_JOB_SECONDS', 600, 60, 86_400),
      reconcileIntervalMs: readInt(env, 'OCEAN_NODE_RECONCILE_MS', 60_000, 0, 86_400_000),
    },
    wallet: readWallet(env),
    worker: {
      inProcess: readEnum(env, 'WORKER_IN_PROCESS', ['auto', 'true', 'false'] as const, 'auto') === 'auto'
        ? !env.REDIS_URL
        : env.WORKER_IN_PROCESS === 'true',
      id: env.WORKER_ID || `${hostname()}-${process.pid}`,
      concurrency: readInt(env, 'WORKER_CONCURRENCY', 16, 1, 1024),
      threads: readInt(env, 'WORKER_THREADS', 2, 1, 64),
      batchMax: readInt(env, 'BATCH_MAX', 16, 1, 256),
      batchWaitMs: readInt(env, 'BATCH_WAIT_MS', 2, 0, 1000),
      lockDurationMs: readInt(env, 'WORKER_LOCK_MS', 30_000, 1000, 3_600_000),
      stalledIntervalMs: readInt(env, 'WORKER_STALLED_INTERVAL_MS', 30_000, 500, 3_600_000),
      maxStalledCount: readInt(env, 'WORKER_MAX_STALLED', 3, 0, 100),
      faultStartDelayMs: readInt(env, 'POSTHUMAN_FAULT_START_DELAY_MS', 0, 0, 600_000),
      faultServeModelDir: env.POSTHUMAN_FAULT_SERVE_MODEL_DIR ? resolve(env.POSTHUMAN_FAULT_SERVE_MODEL_DIR) : undefined,
      auditFraction: readFraction(env, 'AUDIT_FRACTION', 0),
      heartbeatMs: readInt(env, 'WORKER_HEARTBEAT_MS', 1000, 100, 60_000),
      watchdogIntervalMs: readInt(env, 'WATCHDOG_INTERVAL_MS', 1000, 100, 600_000),
      maxRequeues: readInt(env, 'JOB_MAX_REQUEUES', 3, 0, 100),
      gatewayWaitMs: readInt(env, 'WORKER_GATEWAY_WAIT_MS', 60_000, 0, 3_600_000),
    },
  };
}
