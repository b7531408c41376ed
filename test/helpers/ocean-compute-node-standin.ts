// A stand-in for an Ocean compute node (ocean-node's C2D v2 HTTP API) for integration tests: the
// routes, request and answer shapes, status codes and job status numbers of ocean-node, with its own
// payee wallet on the local chain. On start it checks the consumer's signature and locks the payment
// in the real Escrow contract; it runs the job with the project's transformer runtime on the model
// folder it was given (a real output), then claims the lock. Fault switches make it fail on purpose.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getAddress, parseUnits, verifyMessage } from 'ethers';
import { consumerMessage, NODE_COMMANDS, NODE_STATUS, type NodeJob, type SignedCommand } from '../../src/ocean/compute-node-client.js';
import type { EscrowPayee } from '../../src/ocean/escrow.js';
import { createInferenceEngine, type InferenceEngine } from '../../src/runtime/index.js';

/** The payee side of Escrow the stand-in uses (the node's own wallet signs these). */
export type StandinPayee = Pick<EscrowPayee, 'address' | 'createLock' | 'claimLock'>;

export interface StandinOptions {
  chainId: number;
  escrowAddress: string;
  token: string;
  payee: StandinPayee;
  /** Model folders by DID: the node's copy of each open model's files. */
  models: Map<string, string>;
  /** Price per cpu per minute, in whole tokens (ocean-node's unit); 18 decimals. Default 0.01. */
  pricePerMinute?: number;
  maxJobDuration?: number;
  minJobDuration?: number;
  /** Seconds a lock outlives the job's maximum duration, for the node to claim in. Default 60. */
  claimDurationTimeout?: number;
}

export interface StandinFaults {
  /** Every route answers 503, as a node behind a proxy that is down. */
  down: boolean;
  /** Start locks the payment, then never answers (the caller times out). */
  loseStartResponse: boolean;
  /** The job finishes but the node never claims its lock. */
  failClaim: boolean;
  /** The node claims nothing (amount 0) for the finished job. */
  claimZero: boolean;
  /** Start answers 400 with this message before locking anything (as ocean-node does for a bad request). */
  refuseStart: string | null;
  /** The algorithm runs this long (a stop ends the wait, and the job, early). */
  slowJobMs: number;
}

interface StandinJob extends NodeJob {
  internalId: string;
  escrowJobId: bigint;
  payer: string;
  lockTx: string;
  claimTx: string | null;
  lockedAmount: bigint;
  claimedAmount: bigint | null;
  files: Buffer[];
  /** Set by a stop (PUT /api/services/compute): the job ends without running further. */
  stopRequested: boolean;
  stop: () => void;
  stopped: Promise<void>;
}

const CLUSTER_HASH = createHash('sha256').update('posthuman-standin-cluster').digest('hex');
const ENV_ID = `${CLUSTER_HASH}-cpu`;

export async function startComputeNodeStandin(options: StandinOptions) {
  const price = options.pricePerMinute ?? 0.01;
  const maxJobDuration = options.maxJobDuration ?? 600;
  const minJobDuration = options.minJobDuration ?? 60;
  const claimTimeout = options.claimDurationTimeout ?? 60;
  const faults: StandinFaults = { down: false, loseStartResponse: false, failClaim: false, claimZero: false, refuseStart: null, slowJobMs: 0 };
  const jobs = new Map<string, StandinJob>();
  const nonces = new Map<string, bigint>();
  const engines = new Map<string, Promise<InferenceEngine>>();
  const running = new Set<Promise<void>>();
  const held: ServerResponse[] = [];
  const requests: Array<{ method: string; path: string }> = [];

  const environment = () => ({
    id: ENV_ID,
    consumerAddress: options.payee.address,
    description: 'posthuman stand-in',
    fees: { [String(options.chainId)]: [{ feeToken: options.token, prices: [{ id: 'cpu', price }] }] },
    resources: [{ id: 'cpu', total: 1, min: 1, max: 1, inUse: 0 }],
    maxJobDuration,
    minJobDuration,
    runningJobs: [...jobs.values()].filter((j) => j.status !== NODE_STATUS.JobFinished).length,
    queuedJobs: 0,
    queuedFreeJobs: 0,
    platform: { architecture: 'x86_64', os: 'linux' },
    access: { addresses: [], accessLists: null },
  });
  // ocean-node: price × cpus × minutes (rounded up) of the duration, in token base units.
  const cost = (seconds: number) => parseUnits((price * Math.ceil(Math.max(seconds, minJobDuration) / 60)).toFixed(6), 18);

  /** ocean-node's check: nonce above the last one, signature by the consumer over consumer + nonce + command. */
  function checkSignature(consumer: unknown, nonce: unknown, signature: unknown, command: SignedCommand): string | null {
    if (typeof consumer !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string') return 'Invalid nonce or signature';
    if (!/^\d+$/.test(nonce) || BigInt(nonce) <= (nonces.get(consumer.toLowerCase()) ?? 0n)) return `nonce: ${nonce} is not a valid nonce`;
    let signer: string;
    try {
      signer = verifyMessage(consumerMessage(consumer, nonce, command), signature);
    } catch {
      return 'Invalid signature';
    }
    if (signer.toLowerCase() !== consumer.toLowerCase()) return 'Invalid signature';
    nonces.set(consumer.toLowerCase(), BigInt(nonce));
    return null;
  }

  function engineFor(dir: string) {
    let engine = engines.get(dir);
    if (!engine) {
      engine = createInferenceEngine({ modelDir: dir });
      engines.set(dir, engine);
    }
    return engine;
  }

  /** The algorithm's work: the posthuman runtime on the dataset (the model folder), asked by algocustomdata. */
  async function runAlgorithm(modelDir: string, custom: { kind?: string; request?: Record<string, unknown> }) {
    const engine = await engineFor(modelDir);
    const req = custom.request ?? {};
    if (custom.kind === 'evaluate') {
      const r = await engine.evaluate({ texts: req.texts as string[] });
      return { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens, results: r.results, compute_ms: Math.round(r.computeMs) };
    }
    const p = (req.parameters ?? {}) as Record<string, unknown>;
    const r = await engine.generate({
      input: req.input as string,
      maxNewTokens: p.max_new_tokens as number,
      temperature: p.temperature as number | undefined,
      topK: p.top_k as number | undefined,
      topP: p.top_p as number | undefined,
      seed: p.seed as number | undefined,
      stop: p.stop as string[] | undefined,
    });
    return { output: r.output, finish_reason: r.finishReason, input_tokens: r.inputTokens, output_tokens: r.outputTokens, compute_ms: Math.round(r.computeMs) };
  }

  function setStatus(job: StandinJob, status: number, text: string) {
    job.status = status;
    job.statusText = text;
  }

  async function execute(job: StandinJob, modelDir: string | undefined, custom: Record<string, unknown>) {
    const started = Date.now();
    setStatus(job, NODE_STATUS.RunningAlgorithm, 'Running algorithm ');
    try {
      if (!modelDir) throw new Error('dataset is not on this node');
      if (faults.slowJobMs > 0) await Promise.race([job.stopped, new Promise((r) => setTimeout(r, faults.slowJobMs))]);
      if (job.stopRequested) throw new Error('stopped by the consumer');
      const output = await runAlgorithm(modelDir, custom);
      job.files = [Buffer.from(JSON.stringify(output)), Buffer.from('algorithm ran\n')];
      job.results = [
        { filename: 'output.json', filesize: job.files[0].length, type: 'output', index: 0 },
        { filename: 'algorithm.log', filesize: job.files[1].length, type: 'algorithmLog', index: 1 },
      ];
      setStatus(job, NODE_STATUS.JobSettle, 'Job settling');
    } catch (err) {
      job.files = [Buffer.from(String((err as Error).message))];
      job.results = [{ filename: 'algorithm.log', filesize: job.files[0].length, type: 'algorithmLog', index: 0 }];
      setStatus(job, NODE_STATUS.AlgorithmFailed, 'Failed to run algorithm');
    }
    // ocean-node claims the duration used (at least the minimum), never above the lock.
    const used = cost((Date.now() - started) / 1000);
    const claim = faults.claimZero ? 0n : used < job.lockedAmount ? used : job.lockedAmount;
    if (!faults.failClaim) {
      try {
        job.claimTx = (await options.payee.claimLock(job.escrowJobId, options.token, job.payer, claim, job.internalId)).txHash;
        job.claimedAmount = claim;
      } catch {
        // ocean-node logs a failed claim and leaves the lock to expire; so does the stand-in
      }
    }
    if (job.status === NODE_STATUS.JobSettle) setStatus(job, NODE_STATUS.JobFinished, 'Job finished');
    job.dateFinished = String(Date.now() / 1000);
  }

  async function start(body: Record<string, unknown>, res: ServerResponse) {
    for (const field of ['datasets', 'algorithm', 'environment', 'payment', 'consumerAddress', 'signature', 'nonce', 'maxJobDuration']) {
      if (body[field] === undefined || body[field] === null) return send(res, 400, `Missing ${field}`);
    }
    const consumer = body.consumerAddress as string;
    const denied = checkSignature(consumer, body.nonce, body.signature, NODE_COMMANDS.start);
    if (denied) return send(res, 401, denied);
    if (body.environment !== ENV_ID) return send(res, 500, 'Invalid C2D Environment');
    if (faults.refuseStart) return send(res, 400, faults.refuseStart);
    const payment = body.payment as { chainId?: number; token?: string };
    if (payment.chainId !== options.chainId || getAddress(String(payment.token)) !== getAddress(options.token)) {
      return send(res, 500, `This compute env does not accept payments on chain: ${payment.chainId} using token ${payment.token}`);
    }
    const duration = Math.min(Number(body.maxJobDuration), maxJobDuration);
    const internalId = createHash('sha256').update(randomBytes(32)).digest('hex');
    const escrowJobId = BigInt(`0x${createHash('sha256').update(internalId).digest('hex')}`);
    const amount = cost(duration);
    let lockTx: string;
    try {
      lockTx = (await options.payee.createLock(escrowJobId, options.token, getAddress(consumer), amount, duration + claimTimeout)).txHash;
    } catch (err) {
      return send(res, 400, (err as Error).message);
    }
    const job: StandinJob = {
      owner: consumer,
      jobId: `${CLUSTER_HASH}-${internalId}`,
      dateCreated: String(Date.now() / 1000),
      dateFinished: null,
      status: NODE_STATUS.JobStarted,
      statusText: 'Job started',
      results: [],
      environment: ENV_ID,
      maxJobDuration: duration,
      internalId,
      escrowJobId,
      payer: getAddress(consumer),
      lockTx,
      claimTx: null,
      lockedAmount: amount,
      claimedAmount: null,
      files: [],
      stopRequested: false,
      stop: () => {},
      stopped: Promise.resolve(),
    };
    job.stopped = new Promise<void>((resolve) => {
      job.stop = () => {
        job.stopRequested = true;
        resolve();
      };
    });
    jobs.set(job.jobId, job);
    if (faults.loseStartResponse) {
      held.push(res); // locked on chain; the answer never comes
      return;
    }
    const dataset = (body.datasets as Array<{ documentId?: string }>)[0];
    const custom = ((body.algorithm as { algocustomdata?: Record<string, unknown> }).algocustomdata ?? {}) as Record<string, unknown>;
    const run = execute(job, options.models.get(String(dataset?.documentId)), custom).finally(() => running.delete(run));
    running.add(run);
    send(res, 200, [view(job)]);
  }

  function initialize(body: Record<string, unknown>, res: ServerResponse) {
    if (!body.algorithm) return send(res, 400, 'Missing algorithm');
    const datasets = (body.datasets as Array<{ documentId?: string; serviceId?: string; transferTxId?: string }>) ?? [];
    if (datasets.some((d) => !d.documentId)) return send(res, 400, 'Missing dataset did');
    const payment = body.payment as { chainId?: number; token?: string } | undefined;
    if (!payment?.chainId || !payment.token || !body.environment || !body.consumerAddress) return send(res, 400, 'Invalid payment options');
    if (body.environment !== ENV_ID) return send(res, 500, 'Invalid C2D Environment');
    if (payment.chainId !== options.chainId || getAddress(payment.token) !== getAddress(options.token)) {
      return send(res, 500, `This compute env does not accept payments on chain: ${payment.chainId} using token ${payment.token}`);
    }
    const duration = Math.min(Number(body.maxJobDuration) || maxJobDuration, maxJobDuration);
    send(res, 200, {
      algorithm: { chainId: options.chainId, consumerAddress: options.payee.address, validOrder: false },
      datasets: datasets.map((d) => ({ chainId: options.chainId, did: d.documentId, serviceId: d.serviceId, consumerAddress: options.payee.address, validOrder: d.transferTxId ?? false })),
      payment: {
        escrowAddress: options.escrowAddress,
        payee: options.payee.address,
        chainId: options.chainId,
        minLockSeconds: duration + claimTimeout,
        token: options.token,
        amount: cost(duration).toString(),
      },
    });
  }

  function result(q: URLSearchParams, res: ServerResponse) {
    const denied = checkSignature(q.get('consumerAddress'), q.get('nonce') ?? undefined, q.get('signature') ?? undefined, NODE_COMMANDS.result);
    if (denied) return send(res, 401, denied);
    const job = jobs.get(q.get('jobId') ?? '');
    if (!job || job.owner.toLowerCase() !== String(q.get('consumerAddress')).toLowerCase()) return send(res, 404, 'Job not found');
    const file = job.files[Number(q.get('index'))];
    if (!file) return send(res, 404, 'No result at this index');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
    res.end(file);
  }

  function view(job: StandinJob): NodeJob {
    const { owner, jobId, dateCreated, dateFinished, status, statusText, results, environment: env, maxJobDuration: max } = job;
    return { owner, jobId, dateCreated, dateFinished, status, statusText, results, environment: env, maxJobDuration: max };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://standin');
    requests.push({ method: req.method ?? '', path: url.pathname });
    if (faults.down) return send(res, 503, 'Service Unavailable');
    const body = req.method === 'POST' ? await readJson(req) : {};
    if (body === undefined) return send(res, 400, 'Invalid JSON body');
    const route = `${req.method} ${url.pathname}`;
    const q = url.searchParams;
    if (route === 'GET /api/services/computeEnvironments') return send(res, 200, [environment()]);
    if (route === 'POST /api/services/initializeCompute') return initialize(body, res);
    if (route === 'POST /api/services/compute') return start(body, res);
    if (route === 'GET /api/services/compute') {
      const owner = (q.get('consumerAddress') ?? '').toLowerCase();
      const list = [...jobs.values()].filter((j) => j.owner.toLowerCase() === owner && (!q.get('jobId') || j.jobId === q.get('jobId')));
      return send(res, 200, list.map(view));
    }
    if (route === 'GET /api/services/computeResult') return result(q, res);
    if (route === 'PUT /api/services/compute') {
      const denied = checkSignature(q.get('consumerAddress'), q.get('nonce') ?? undefined, q.get('signature') ?? undefined, NODE_COMMANDS.stop);
      if (denied) return send(res, 401, denied);
      const job = jobs.get(q.get('jobId') ?? '');
      job?.stop();
      return send(res, 200, job ? [view(job)] : []);
    }
    send(res, 404, 'Not found');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, String((err as Error).message)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    environmentId: ENV_ID,
    faults,
    requests,
    /** The node's own record of a job: its escrow job id, lock and claim (what it would have in its database). */
    job: (jobId: string) => jobs.get(jobId),
    jobs: () => [...jobs.values()],
    /** Jobs still running or settling on the node. */
    idle: () => Promise.allSettled([...running]),
    async close() {
      for (const res of held.splice(0)) res.destroy();
      await Promise.allSettled([...running]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...engines.values()].map(async (e) => (await e).close()));
    },
  };
}

export type ComputeNodeStandin = Awaited<ReturnType<typeof startComputeNodeStandin>>;

function send(res: ServerResponse, status: number, body: unknown) {
  // ocean-node sends errors as JSON strings (start) or plain text (others); JSON for both is read the same.
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
