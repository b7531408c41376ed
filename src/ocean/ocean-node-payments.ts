// The payment side of a job on an Ocean compute node, for the gateway's consumer wallet: checks the
// node's terms, makes the amount available in Escrow and authorizes the node, and keeps the job's
// escrow_payments row, read back from the chain through the escrow reconciler.
import { and, eq, inArray } from 'drizzle-orm';
import { getAddress } from 'ethers';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { NodeEnvironment, NodePaymentTerms } from './compute-node-client.js';
import { type EscrowPayer, escrowJobIdOfNodeJob } from './escrow.js';
import { reconcileEscrow } from './escrow-reconciler.js';
import { escrowPayments } from './escrow-schema.js';

export interface OceanNodePaymentsDeps {
  db: Db;
  log: FastifyBaseLogger;
  payer: EscrowPayer;
  chainId: number;
  token: string;
  /** Most a node may ask to lock for one job, in token base units; a higher ask is refused. */
  maxPaymentPerJob: bigint;
  /** Jobs one gateway runs at once: the node's authorization leaves room for that many locks. */
  concurrency: number;
  /** First block with escrow events to read (the contracts' start block); default 0. */
  fromBlock?: number;
}

/** The node's terms are not ones the gateway pays. */
export class TermsRefusedError extends Error {
  override name = 'TermsRefusedError';
}

export function createOceanNodePayments(deps: OceanNodePaymentsDeps) {
  const { db, payer } = deps;
  const token = getAddress(deps.token);
  // authorize() replaces a payee's limits: one update at a time per payee, so none undoes another.
  const authorizing = new Map<string, Promise<unknown>>();
  /** Amounts of this gateway's jobs deposited for but not locked yet. */
  let unlocked = 0n;

  const update = (jobId: string, patch: Partial<typeof escrowPayments.$inferInsert>) =>
    db.update(escrowPayments).set({ ...patch, updatedAt: new Date() }).where(eq(escrowPayments.jobId, jobId));

  /** Lets the payee lock this amount for this long, on top of what it holds now. */
  function ensureAuthorized(payee: string, amount: bigint, lockSeconds: number) {
    const run = (authorizing.get(payee) ?? Promise.resolve()).then(async () => {
      const auth = await payer.authorization(token, payee);
      const needed = (auth?.currentLockedAmount ?? 0n) + amount;
      const enough = auth && auth.maxLockedAmount >= needed && auth.maxLockSeconds >= BigInt(lockSeconds) && auth.currentLocks < auth.maxLockCounts;
      if (enough) return;
      // Room for as many jobs at once as the queue runs; the per-job cap bounds each of them, so the
      // node can never lock more than that many times the cap beyond what it holds now.
      const room = BigInt(deps.concurrency);
      await payer.authorize(token, payee, {
        maxLockedAmount: needed + room * deps.maxPaymentPerJob,
        maxLockSeconds: BigInt(Math.max(lockSeconds, Number(auth?.maxLockSeconds ?? 0n))),
        maxLockCounts: (auth?.currentLocks ?? 0n) + room + 1n,
      });
    });
    authorizing.set(payee, run.catch(() => undefined));
    return run;
  }

  return {
    token,

    /** The node's first environment paid in our token on this chain. */
    pickEnvironment(envs: NodeEnvironment[]): NodeEnvironment {
      const env = envs.find((e) => (e.fees[String(deps.chainId)] ?? []).some((f) => getAddress(f.feeToken) === token));
      if (!env) throw new TermsRefusedError(`the node has no environment paid in ${token} on chain ${deps.chainId}`);
      return env;
    },

    /** The node's terms must name this chain's Escrow, our token, the environment's payee and a bounded amount. */
    checkTerms(terms: NodePaymentTerms, env: NodeEnvironment): { payee: string; amount: bigint; lockSeconds: number } {
      const amount = BigInt(terms.amount);
      const problems = [
        getAddress(terms.escrowAddress) !== payer.escrowAddress && `escrow ${terms.escrowAddress} is not ${payer.escrowAddress}`,
        terms.chainId !== deps.chainId && `chain ${terms.chainId}`,
        getAddress(terms.token) !== token && `token ${terms.token}`,
        getAddress(terms.payee) !== getAddress(env.consumerAddress) && `payee ${terms.payee} is not the environment's`,
        amount > deps.maxPaymentPerJob && `amount ${amount} is above the ${deps.maxPaymentPerJob} allowed per job`,
      ].filter(Boolean);
      if (problems.length) throw new TermsRefusedError(`the node's payment terms are refused: ${problems.join('; ')}`);
      return { payee: getAddress(terms.payee), amount, lockSeconds: terms.minLockSeconds };
    },

    /**
     * Funds and authorizes, records the row `pending`, then runs `start` (which makes the node lock).
     * Jobs between their deposit and their lock all need their amount available at once.
     */
    async payFor<T>(jobId: string, terms: { payee: string; amount: bigint; lockSeconds: number }, start: () => Promise<T>): Promise<T> {
      unlocked += terms.amount;
      try {
        await payer.ensureAvailable(token, unlocked);
        await ensureAuthorized(terms.payee, terms.amount, terms.lockSeconds);
        // Recorded before the start is sent: whatever happens to its answer, the payment is known.
        await db
          .insert(escrowPayments)
          .values({
            jobId,
            chainId: deps.chainId,
            escrowAddress: payer.escrowAddress,
            token,
            payer: payer.address,
            payee: terms.payee,
            amount: terms.amount.toString(),
            status: 'pending',
            expiresAt: new Date(Date.now() + terms.lockSeconds * 1000),
          })
          .onConflictDoNothing({ target: escrowPayments.jobId });
        return await start();
      } finally {
        unlocked -= terms.amount;
      }
    },

    find: async (jobId: string) => (await db.select().from(escrowPayments).where(eq(escrowPayments.jobId, jobId)))[0],

    /** The node answered the start: its job id and the escrow id it locked under. */
    started: (jobId: string, nodeJobId: string) => update(jobId, { nodeJobId, escrowJobId: escrowJobIdOfNodeJob(nodeJobId).toString() }),

    /** The node refused the start: ocean-node refuses before it locks. */
    refused: (jobId: string) => update(jobId, { status: 'failed' }),

    /** Reads the node's lock, claim or cancel back from the chain into the rows of this payee. */
    async sync(jobId: string, payee: string) {
      await reconcileEscrow({ db, payer, token, payees: [payee], fromBlock: deps.fromBlock }).catch((err) =>
        deps.log.warn({ err, jobId }, 'reading the escrow back from the chain failed; the reconciler retries'),
      );
    },

    /**
     * Brings every open payment (pending, locked) to the chain's truth and cancels expired unclaimed
     * locks, refunding them: what settles a lost start answer or a node that never claimed.
     */
    async reconcileOpen(): Promise<void> {
      const open = await db
        .selectDistinct({ payee: escrowPayments.payee })
        .from(escrowPayments)
        .where(and(eq(escrowPayments.chainId, deps.chainId), inArray(escrowPayments.status, ['pending', 'locked'])));
      if (open.length === 0) return;
      await reconcileEscrow({ db, payer, token, payees: open.map((r) => r.payee), fromBlock: deps.fromBlock });
    },
  };
}

export type OceanNodePayments = ReturnType<typeof createOceanNodePayments>;
