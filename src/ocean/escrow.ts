// Ocean's Escrow contract (C2D v2) for paid compute on external Ocean compute nodes. The payer (the
// gateway's nonce-managed consumer wallet) deposits tokens and authorizes a node; the payee (the node)
// locks an amount per job, claims what the job cost with a proof, and the payer cancels expired
// unclaimed locks to get them back. Every call is tried as an eth_call first, so a refusal surfaces as
// an EscrowError naming the contract's revert reason and nothing is sent; no call returns null.
import { createHash } from 'node:crypto';
import { type Interface, type Log, type TransactionReceipt, ZeroAddress, getAddress, hexlify, isHexString, toUtf8Bytes } from 'ethers';
import { contractInterface, parseEventLog } from './contract-artifacts.js';
import type { ManagedSigner } from './nonce-manager.js';
import { OceanError, isOceanError } from './ocean-error.js';
import { toOceanError } from './rpc-errors.js';

/** Tokens a payer holds in the escrow: `available` may be locked or withdrawn, `locked` is held by locks. */
export interface EscrowFunds {
  available: bigint;
  locked: bigint;
}

/** What a payer lets one payee lock: per-lock-set maximums and what is locked now. */
export interface EscrowAuthorization {
  payee: string;
  maxLockedAmount: bigint;
  currentLockedAmount: bigint;
  maxLockSeconds: bigint;
  maxLockCounts: bigint;
  currentLocks: bigint;
}

export interface EscrowLimits {
  /** Most tokens all of the payee's open locks may hold together. */
  maxLockedAmount: bigint;
  /** Longest lock duration the payee may ask for. */
  maxLockSeconds: bigint | number;
  /** Most open locks at once. */
  maxLockCounts: bigint | number;
}

/** One open lock. `expiry` is unix seconds (chain time); after it the lock can only be canceled. */
export interface EscrowLock {
  jobId: bigint;
  payer: string;
  payee: string;
  token: string;
  amount: bigint;
  expiry: bigint;
}

/** A mined, successful escrow transaction. */
export interface EscrowTx {
  txHash: string;
  blockNumber: number;
  gasUsed: bigint;
}

interface EventBase {
  jobId: bigint;
  payer: string;
  payee: string;
  token: string;
  amount: bigint;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

/**
 * The escrow's record of a job's payment. A `lock` carries its duration and its expiry (block time +
 * duration); a `claimed` amount went to the payee (the rest of the lock back to the payer's available
 * funds); a `canceled` lock went back whole to the payer.
 */
export type EscrowEvent =
  | (EventBase & { kind: 'lock'; lockSeconds: bigint; expiry: bigint })
  | (EventBase & { kind: 'claimed'; proof: string })
  | (EventBase & { kind: 'canceled' });

export const ESCROW_FAILURES = [
  'insufficient_funds',
  'not_authorized',
  'expiry_too_high',
  'exceeds_max_locked',
  'exceeds_max_locks',
  'job_id_exists',
  'lock_not_found',
  'lock_expired',
  'amount_too_high',
  'invalid_argument',
  'reverted',
] as const;
export type EscrowFailure = (typeof ESCROW_FAILURES)[number];

/**
 * The contract refused a call. `reason` is its revert string (undefined when it gave none). `code` is
 * `call_reverted` when the refusal was found by eth_call (nothing sent) and `tx_reverted` when a mined
 * transaction failed or did not do what it was sent for (`txHash` set).
 */
export class EscrowError extends OceanError {
  readonly failure: EscrowFailure;
  readonly reason: string | undefined;

  constructor(failure: EscrowFailure, detail: string, options: { reason?: string; txHash?: string; cause?: unknown } = {}) {
    super(options.txHash ? 'tx_reverted' : 'call_reverted', detail, { cause: options.cause, txHash: options.txHash });
    this.name = 'EscrowError';
    this.failure = failure;
    this.reason = options.reason;
  }
}

export function isEscrowError(err: unknown, failure?: EscrowFailure): err is EscrowError {
  return err instanceof EscrowError && (failure === undefined || err.failure === failure);
}

const REASONS: Array<[RegExp, EscrowFailure]> = [
  [/does not have enough funds|Transfer amount is too low|exceeds balance|insufficient/i, 'insufficient_funds'],
  [/No auth found/i, 'not_authorized'],
  [/Expiry too high/i, 'expiry_too_high'],
  [/Exceeds maxLockedAmount/i, 'exceeds_max_locked'],
  [/Exceeds maxLockCounts/i, 'exceeds_max_locks'],
  [/JobId already exists/i, 'job_id_exists'],
  [/Lock not found/i, 'lock_not_found'],
  [/Amount too high/i, 'amount_too_high'],
  [/Invalid|cannot be payee/i, 'invalid_argument'],
];

function failureOf(reason: string | undefined): EscrowFailure {
  if (reason) for (const [pattern, failure] of REASONS) if (pattern.test(reason)) return failure;
  return 'reverted';
}

/** The revert string of a failed eth_call, or undefined if the error is not a revert. */
function revertReason(err: unknown): { reverted: boolean; reason?: string } {
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const x = e as { code?: unknown; reason?: unknown; shortMessage?: unknown; message?: unknown };
    if (x.code === 'CALL_EXCEPTION') return { reverted: true, reason: typeof x.reason === 'string' ? x.reason : undefined };
    const text = `${x.shortMessage ?? ''} ${x.message ?? ''}`;
    const m = /reverted with reason string '([^']*)'|execution reverted: ?([^"\n]*)/.exec(text);
    if (m) return { reverted: true, reason: m[1] ?? m[2] };
  }
  return { reverted: false };
}

/** Gas limits of the calls whose cost does not depend on the escrow's state (measured, ~50% headroom). */
export const ESCROW_GAS = {
  approve: 70_000n,
  deposit: 150_000n,
  authorize: 200_000n,
  withdraw: 120_000n,
  /** Under a 30M block: a batch whose limit would pass it must be split. */
  txMax: 29_000_000n,
} as const;

/**
 * The contract scans the payee's open locks on every lock, claim and cancel, so their gas grows with
 * them (measured on contracts 2.6: one lock 188k + 5k per open lock; 64 in one createLocks 154k each
 * with none open, 219k with 64 open; one cancel among 128 open locks 854k). `first`: the first entry
 * of a call, which also pays for cold storage; `next`: each further entry; `cold`/`warm`: per open
 * lock scanned by the first entry / by the further ones (whose reads are warm).
 */
const SCAN_GAS = {
  lock: { first: 260_000n, next: 160_000n, cold: 6_000n, warm: 1_200n },
  claim: { first: 230_000n, next: 110_000n, cold: 6_000n, warm: 1_000n },
  cancel: { first: 200_000n, next: 150_000n, cold: 7_000n, warm: 1_500n },
} as const;

/**
 * The gas limit for `entries` locks, claims or cancels at one payee with `open` locks there already.
 * It is what the call is signed with when the signer does not estimate (a compute node sending many
 * at once must not: an estimate made before the others land is too low), and a third of the most an
 * estimate may reach.
 */
export function escrowGasLimit(kind: keyof typeof SCAN_GAS, entries: number, open: number): bigint {
  const g = SCAN_GAS[kind];
  const n = BigInt(entries);
  const scanned = BigInt(open) + (kind === 'cancel' ? 0n : n);
  const gas = 50_000n + g.first + (n - 1n) * g.next + g.cold * BigInt(open) + (n - 1n) * g.warm * scanned;
  if (gas > ESCROW_GAS.txMax) {
    throw new EscrowError('invalid_argument', `${entries} ${kind}s with ${open} open locks exceed one transaction's gas; split them`);
  }
  return gas;
}

/** Blocks per eth_getLogs request. */
const LOG_SPAN_BLOCKS = 10_000;

const escrowAbi = () => contractInterface('Escrow');
const erc20Abi = () => contractInterface('OceanToken');


/** A client bound to one wallet and one Escrow contract; the payer and payee sides are built on it. */
function escrowCaller(signer: ManagedSigner, escrowAddress: string) {
  const escrow = getAddress(escrowAddress);
  const iface = escrowAbi();

  /** An eth_call whose revert is an EscrowError naming the contract's reason (nothing is sent). */
  async function callOrRefuse(to: string, data: string, fn: string, blockTag?: 'pending'): Promise<string> {
    try {
      return await signer.provider.call({ from: signer.address, to, data, ...(blockTag ? { blockTag } : {}) });
    } catch (err) {
      const { reverted, reason } = revertReason(err);
      if (reverted) throw new EscrowError(failureOf(reason), `${fn} refused: ${reason ?? 'no reason given'}`, { reason, cause: err });
      throw toOceanError(err, `${blockTag ? 'checking' : 'reading'} ${fn}`);
    }
  }

  async function read(to: string, abi: Interface, fn: string, args: unknown[]) {
    return abi.decodeFunctionResult(fn, await callOrRefuse(to, abi.encodeFunctionData(fn, args), fn));
  }

  /**
   * Tries the call first (a refusal is thrown with its reason, nothing sent), then sends it and waits
   * for a successful receipt. A transaction that still reverts (state changed in between) is replayed
   * as a call to name its reason.
   */
  async function transact(to: string, abi: Interface, fn: string, args: unknown[], gas: bigint | Promise<bigint>): Promise<TransactionReceipt> {
    const data = abi.encodeFunctionData(fn, args);
    const [, gasLimit] = await Promise.all([preflight(to, data, fn), gas]);
    try {
      return await signer.sendAndWait({ to, data, gasLimit });
    } catch (err) {
      if (isOceanError(err, 'tx_reverted') && err.txHash) {
        const reason = await preflight(to, data, fn).then(
          () => undefined,
          (e: unknown) => (isEscrowError(e) ? e.reason : undefined),
        );
        throw new EscrowError(failureOf(reason), `${fn} reverted in ${err.txHash}: ${reason ?? 'no reason given'}`, { reason, txHash: err.txHash, cause: err });
      }
      throw err;
    }
  }

  async function preflight(to: string, data: string, fn: string): Promise<void> {
    await callOrRefuse(to, data, fn, 'pending');
  }

  /** The escrow's events in a receipt (or in logs), decoded. */
  function decodeLogs(logs: readonly Log[]): Array<{ name: string; args: Record<string, unknown>; log: Log }> {
    const out = [];
    for (const log of logs) {
      if (getAddress(log.address) !== escrow) continue;
      const parsed = parseEventLog(iface, log);
      if (parsed) out.push({ name: parsed.name, args: parsed.args as unknown as Record<string, unknown>, log });
    }
    return out;
  }

  /** How many locks the payee holds open now (all payers and tokens: the contract scans them all). */
  async function openLocks(payee: string): Promise<number> {
    const [locks] = await read(escrow, iface, 'getLocks', [ZeroAddress, ZeroAddress, getAddress(payee)]);
    return (locks as unknown[]).length;
  }

  return { escrow, iface, read, transact, decodeLogs, openLocks };
}

function txOf(receipt: TransactionReceipt): EscrowTx {
  return { txHash: receipt.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
}

function asBigInt(v: unknown): bigint {
  return BigInt(v as bigint);
}

function lockKey(jobId: bigint, payer: string, payee: string, token: string): string {
  return `${jobId}:${getAddress(payer)}:${getAddress(payee)}:${getAddress(token)}`;
}

/** A proof as bytes: hex is taken as is, any other string as its UTF-8 bytes. */
function proofBytes(proof: string | Uint8Array): string {
  if (typeof proof !== 'string') return hexlify(proof);
  return isHexString(proof) && proof.length % 2 === 0 ? proof : hexlify(toUtf8Bytes(proof));
}

/**
 * The escrow job id an Ocean compute node locks for a job: the sha256 of its internal job id read as a
 * uint256 (ocean-node keeps it as the job's `jobIdHash`).
 */
export function escrowJobIdOf(internalJobId: string): bigint {
  return BigInt(`0x${createHash('sha256').update(internalJobId).digest('hex')}`);
}

/** The same for the job id a node answers with, `<cluster hash>-<internal job id>`. */
export function escrowJobIdOfNodeJob(nodeJobId: string): bigint {
  return escrowJobIdOf(nodeJobId.slice(nodeJobId.indexOf('-') + 1));
}

/** The payer's side: what the gateway does with its consumer wallet. */
export function createEscrowPayer(signer: ManagedSigner, escrowAddress: string) {
  const { escrow, iface, read, transact, decodeLogs, openLocks } = escrowCaller(signer, escrowAddress);
  const payer = signer.address;
  /** One top-up at a time per token, so two callers never both deposit the same shortfall. */
  const topUps = new Map<string, Promise<unknown>>();

  async function funds(token: string): Promise<EscrowFunds> {
    const [f] = await read(escrow, iface, 'getUserFunds', [payer, getAddress(token)]);
    return { available: asBigInt(f.available), locked: asBigInt(f.locked) };
  }

  async function topUp(token: string, amount: bigint): Promise<{ deposited: bigint; available: bigint; tx?: EscrowTx; approveTx?: EscrowTx }> {
    const before = await funds(token);
    const shortfall = amount - before.available;
    if (shortfall <= 0n) return { deposited: 0n, available: before.available };
    const erc20 = erc20Abi();
    const [balance] = await read(token, erc20, 'balanceOf', [payer]);
    if (asBigInt(balance) < shortfall) {
      throw new EscrowError('insufficient_funds', `wallet ${payer} holds ${balance} of ${token}, ${shortfall} more is needed in the escrow`);
    }
    let approveTx: EscrowTx | undefined;
    const [allowance] = await read(token, erc20, 'allowance', [payer, escrow]);
    if (asBigInt(allowance) < shortfall) {
      approveTx = txOf(await transact(token, erc20, 'approve', [escrow, shortfall], ESCROW_GAS.approve));
    }
    const receipt = await transact(escrow, iface, 'deposit', [token, shortfall], ESCROW_GAS.deposit);
    if (!decodeLogs(receipt.logs).some((e) => e.name === 'Deposit')) {
      throw new EscrowError('reverted', `deposit ${receipt.hash} emitted no Deposit`, { txHash: receipt.hash });
    }
    return { deposited: shortfall, available: before.available + shortfall, tx: txOf(receipt), approveTx };
  }

  async function lockExpiries(logs: Array<{ args: Record<string, unknown>; log: Log }>): Promise<Map<number, bigint>> {
    const times = new Map<number, bigint>();
    for (const { log } of logs) {
      if (times.has(log.blockNumber)) continue;
      const block = await signer.provider.getBlock(log.blockNumber);
      if (!block) throw new OceanError('rpc_unavailable', `block ${log.blockNumber} not found`);
      times.set(log.blockNumber, BigInt(block.timestamp));
    }
    return times;
  }

  return {
    address: payer,
    escrowAddress: escrow,
    /** The wallet's RPC client (chain time, chain id). */
    provider: signer.provider,

    funds,

    /**
     * Makes at least `amount` of `token` available in the escrow: approves and deposits only the
     * shortfall (nothing when enough is there). Throws insufficient_funds when the wallet lacks it.
     */
    ensureAvailable(token: string, amount: bigint) {
      const key = getAddress(token);
      const run = (topUps.get(key) ?? Promise.resolve()).then(() => topUp(key, amount));
      topUps.set(
        key,
        run.catch(() => undefined),
      );
      return run;
    },

    /** Lets `payee` lock up to these limits (replaces earlier limits for that payee). */
    async authorize(token: string, payee: string, limits: EscrowLimits): Promise<EscrowTx> {
      const args = [getAddress(token), getAddress(payee), limits.maxLockedAmount, BigInt(limits.maxLockSeconds), BigInt(limits.maxLockCounts)];
      return txOf(await transact(escrow, iface, 'authorize', args, ESCROW_GAS.authorize));
    },

    /** The payee's authorization, or undefined when the payer never authorized it. */
    async authorization(token: string, payee: string): Promise<EscrowAuthorization | undefined> {
      const [auths] = await read(escrow, iface, 'getAuthorizations', [getAddress(token), payer, getAddress(payee)]);
      const a = (auths as Array<Record<string, unknown>>).find((x) => getAddress(x.payee as string) === getAddress(payee));
      if (!a) return undefined;
      return {
        payee: getAddress(a.payee as string),
        maxLockedAmount: asBigInt(a.maxLockedAmount),
        currentLockedAmount: asBigInt(a.currentLockedAmount),
        maxLockSeconds: asBigInt(a.maxLockSeconds),
        maxLockCounts: asBigInt(a.maxLockCounts),
        currentLocks: asBigInt(a.currentLocks),
      };
    },

    /** The payee's open locks on this payer's funds in `token` (expired ones included until canceled). */
    async locks(token: string, payee: string): Promise<EscrowLock[]> {
      const t = getAddress(token);
      const p = getAddress(payee);
      const [raw] = await read(escrow, iface, 'getLocks', [t, payer, p]);
      // The contract ORs its token and payer filters: keep only ours.
      return (raw as Array<Record<string, unknown>>)
        .filter((l) => getAddress(l.payer as string) === payer && getAddress(l.token as string) === t)
        .map((l) => ({ jobId: asBigInt(l.jobId), payer, payee: p, token: t, amount: asBigInt(l.amount), expiry: asBigInt(l.expiry) }));
    },

    /**
     * Cancels these locks in one transaction; only those expired by the block it lands in are
     * canceled (the contract skips the others). Answers which were canceled, from the receipt.
     */
    async cancelExpired(locks: readonly EscrowLock[]): Promise<{ tx?: EscrowTx; canceled: EscrowLock[] }> {
      if (locks.length === 0) return { canceled: [] };
      const args = [
        locks.map((l) => l.jobId),
        locks.map((l) => getAddress(l.token)),
        locks.map((l) => getAddress(l.payer)),
        locks.map((l) => getAddress(l.payee)),
      ];
      // Entries of several payees scan several arrays: sized for the fullest, which overestimates.
      const payees = [...new Set(locks.map((l) => getAddress(l.payee)))];
      const gas = Promise.all(payees.map(openLocks)).then((counts) => escrowGasLimit('cancel', locks.length, Math.max(...counts)));
      const receipt = await transact(escrow, iface, 'cancelExpiredLocks', args, gas);
      const done = new Set(
        decodeLogs(receipt.logs)
          .filter((e) => e.name === 'Canceled')
          .map((e) => lockKey(asBigInt(e.args.jobId), e.args.payer as string, e.args.payee as string, e.args.token as string)),
      );
      return { tx: txOf(receipt), canceled: locks.filter((l) => done.has(lockKey(l.jobId, l.payer, l.payee, l.token))) };
    },

    /** Withdraws available funds to the wallet; throws insufficient_funds when less is available. */
    async withdraw(token: string, amount: bigint): Promise<EscrowTx> {
      const t = getAddress(token);
      // The contract silently skips a withdrawal above the available funds: check first and after.
      const { available } = await funds(t);
      if (available < amount) throw new EscrowError('insufficient_funds', `withdraw ${amount}: only ${available} available`);
      const receipt = await transact(escrow, iface, 'withdraw', [[t], [amount]], ESCROW_GAS.withdraw);
      if (!decodeLogs(receipt.logs).some((e) => e.name === 'Withdraw')) {
        throw new EscrowError('insufficient_funds', `withdraw ${receipt.hash} moved nothing`, { txHash: receipt.hash });
      }
      return txOf(receipt);
    },

    /** This payer's Lock, Claimed and Canceled events in [fromBlock, toBlock], in chain order. */
    async events(fromBlock: number, toBlock?: number): Promise<EscrowEvent[]> {
      const topics = [[iface.getEvent('Lock')!.topicHash, iface.getEvent('Claimed')!.topicHash, iface.getEvent('Canceled')!.topicHash]];
      const logs: Log[] = [];
      try {
        const last = toBlock ?? (await signer.provider.getBlockNumber());
        // Public RPCs cap the blocks one eth_getLogs may span: read in spans they accept.
        for (let from = fromBlock; from <= last; from += LOG_SPAN_BLOCKS) {
          const to = Math.min(last, from + LOG_SPAN_BLOCKS - 1);
          logs.push(...(await signer.provider.getLogs({ address: escrow, topics, fromBlock: from, toBlock: to })));
        }
      } catch (err) {
        throw toOceanError(err, 'reading escrow events');
      }
      // Lock's payer is not indexed: filter after decoding.
      const decoded = decodeLogs(logs).filter((e) => getAddress(e.args.payer as string) === payer);
      const times = await lockExpiries(decoded.filter((e) => e.name === 'Lock'));
      return decoded.map(({ name, args, log }): EscrowEvent => {
        const base: EventBase = {
          jobId: asBigInt(args.jobId),
          payer,
          payee: getAddress(args.payee as string),
          token: getAddress(args.token as string),
          amount: asBigInt(args.amount),
          txHash: log.transactionHash,
          blockNumber: log.blockNumber,
          logIndex: log.index,
        };
        if (name === 'Lock') {
          const lockSeconds = asBigInt(args.expiry);
          return { ...base, kind: 'lock', lockSeconds, expiry: (times.get(log.blockNumber) ?? 0n) + lockSeconds };
        }
        if (name === 'Claimed') return { ...base, kind: 'claimed', proof: args.proof as string };
        return { ...base, kind: 'canceled' };
      });
    },
  };
}

export type EscrowPayer = ReturnType<typeof createEscrowPayer>;

export interface LockRequest {
  jobId: bigint;
  token: string;
  payer: string;
  amount: bigint;
  /** Lock duration; at most the payer's maxLockSeconds for this payee. */
  expirySeconds: bigint | number;
}

export interface ClaimRequest {
  jobId: bigint;
  token: string;
  payer: string;
  /** What the job cost, at most the lock's amount (0 gives it all back to the payer). */
  amount: bigint;
  /** The job's proof: hex bytes, or a string sent as UTF-8. */
  proof: string | Uint8Array;
}

/**
 * The payee's side: what an Ocean compute node does (tests' stand-in node, benchmarks). A node that
 * sends many locks or claims at once should have a signer built with `estimateGas: false`: each call
 * is then signed with escrowGasLimit for the node's open locks plus those it has in flight, where an
 * estimate made before the others land can fall short.
 */
export function createEscrowPayee(signer: ManagedSigner, escrowAddress: string) {
  const { escrow, iface, read, transact, decodeLogs, openLocks } = escrowCaller(signer, escrowAddress);
  /** Locks this node sent and not yet saw land: the chain's count does not hold them yet. */
  let locksInFlight = 0;

  /** The gas limit for these entries given the node's open locks, counting its locks in flight. */
  async function withGasLimit(kind: 'lock' | 'claim', entries: number, send: (gas: Promise<bigint>) => Promise<TransactionReceipt>) {
    const adding = kind === 'lock' ? entries : 0;
    const others = locksInFlight;
    locksInFlight += adding;
    try {
      return await send(openLocks(signer.address).then((open) => escrowGasLimit(kind, entries, open + others)));
    } finally {
      locksInFlight -= adding;
    }
  }

  function lockArgs(locks: readonly LockRequest[]) {
    return [
      locks.map((l) => l.jobId),
      locks.map((l) => getAddress(l.token)),
      locks.map((l) => getAddress(l.payer)),
      locks.map((l) => l.amount),
      locks.map((l) => BigInt(l.expirySeconds)),
    ];
  }

  /** Every claim must have its Claimed event: a claim after expiry cancels the lock instead (no revert). */
  function checkClaimed(receipt: TransactionReceipt, claims: readonly ClaimRequest[]): EscrowTx {
    const events = decodeLogs(receipt.logs);
    const claimed = new Set(events.filter((e) => e.name === 'Claimed').map((e) => lockKey(asBigInt(e.args.jobId), e.args.payer as string, signer.address, e.args.token as string)));
    const missed = claims.filter((c) => !claimed.has(lockKey(c.jobId, c.payer, signer.address, c.token)));
    if (missed.length > 0) {
      const ids = missed.map((c) => c.jobId).join(', ');
      throw new EscrowError('lock_expired', `lock(s) ${ids} had expired: the claim canceled them, refunding the payer`, { txHash: receipt.hash });
    }
    return txOf(receipt);
  }

  return {
    address: signer.address,
    escrowAddress: escrow,

    async createLock(jobId: bigint, token: string, payer: string, amount: bigint, expirySeconds: bigint | number): Promise<EscrowTx> {
      const args = [jobId, getAddress(token), getAddress(payer), amount, BigInt(expirySeconds)];
      return txOf(await withGasLimit('lock', 1, (gas) => transact(escrow, iface, 'createLock', args, gas)));
    },

    async createLocks(locks: readonly LockRequest[]): Promise<EscrowTx> {
      if (locks.length === 0) throw new EscrowError('invalid_argument', 'createLocks needs at least one lock');
      return txOf(await withGasLimit('lock', locks.length, (gas) => transact(escrow, iface, 'createLocks', lockArgs(locks), gas)));
    },

    /** Claims `amount` of the lock; throws lock_expired (the lock was canceled and refunded instead). */
    async claimLock(jobId: bigint, token: string, payer: string, amount: bigint, proof: string | Uint8Array): Promise<EscrowTx> {
      const claim = { jobId, token, payer, amount, proof };
      const args = [jobId, getAddress(token), getAddress(payer), amount, proofBytes(proof)];
      return checkClaimed(await withGasLimit('claim', 1, (gas) => transact(escrow, iface, 'claimLock', args, gas)), [claim]);
    },

    async claimLocks(claims: readonly ClaimRequest[]): Promise<EscrowTx> {
      if (claims.length === 0) throw new EscrowError('invalid_argument', 'claimLocks needs at least one claim');
      const args = [
        claims.map((c) => c.jobId),
        claims.map((c) => getAddress(c.token)),
        claims.map((c) => getAddress(c.payer)),
        claims.map((c) => c.amount),
        claims.map((c) => proofBytes(c.proof)),
      ];
      return checkClaimed(await withGasLimit('claim', claims.length, (gas) => transact(escrow, iface, 'claimLocks', args, gas)), claims);
    },

    /** The payee's own funds in the escrow (claims land here until withdrawn). */
    async funds(token: string): Promise<EscrowFunds> {
      const [f] = await read(escrow, iface, 'getUserFunds', [signer.address, getAddress(token)]);
      return { available: asBigInt(f.available), locked: asBigInt(f.locked) };
    },
  };
}

export type EscrowPayee = ReturnType<typeof createEscrowPayee>;
