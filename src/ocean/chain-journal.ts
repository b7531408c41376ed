// Makes the in-process chain durable: every accepted raw transaction and every non-empty block
// (number, timestamp, transaction order) is appended to a journal in the data dir, and a restart
// replays it block by block from the same genesis, so every earlier order, publication and anchor
// is on chain again with the same hashes, numbers and timestamps.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Transaction, keccak256 } from 'ethers';
import { OceanError } from './ocean-error.js';

export interface JournalHeader {
  v: 1;
  chainId: number;
  /** Unix seconds: the genesis block's timestamp, the same at every replay. */
  genesis: number;
  accounts: number;
}

type JournalLine =
  | { tx: string }
  | { b: number; ts: number; txs: string[] }
  | { revert: number }
  | { drop: string };

interface BlockEntry {
  n: number;
  ts: number;
  txs: string[];
}

export interface ReplayPlan {
  blocks: BlockEntry[];
  raw: Map<string, string>;
  /** Accepted transactions no journaled block included (still pending when the chain stopped). */
  pending: string[];
}

type Request = (method: string, params?: unknown[]) => Promise<unknown>;

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

export class ChainJournal {
  private lastBlock = 0;
  /** The highest block number with a journal entry. */
  private lastEntry = 0;
  private syncing: Promise<void> = Promise.resolve();
  private readonly raw = new Map<string, string>();

  private constructor(
    readonly file: string,
    readonly header: JournalHeader,
    readonly existed: boolean,
  ) {}

  /** Opens the journal, creating it (genesis = now) when absent; refuses one made for another chain. */
  static open(file: string, chainId: number, accounts: number, now = Date.now()): ChainJournal {
    if (existsSync(file)) {
      const first = readFileSync(file, 'utf8').split('\n', 1)[0];
      let header: JournalHeader;
      try {
        header = JSON.parse(first) as JournalHeader;
      } catch (err) {
        throw new OceanError('config_invalid', `chain journal ${file} has no valid header; move it away to start a fresh chain`, { cause: err });
      }
      if (header.v !== 1 || header.chainId !== chainId || header.accounts !== accounts) {
        throw new OceanError(
          'config_invalid',
          `chain journal ${file} was written for chain ${header.chainId} with ${header.accounts} accounts (now ${chainId}, ${accounts}); move it away to start a fresh chain`,
        );
      }
      return new ChainJournal(file, header, true);
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const header: JournalHeader = { v: 1, chainId, genesis: Math.floor(now / 1000), accounts };
    writeFileSync(file, `${JSON.stringify(header)}\n`, { mode: 0o600 });
    return new ChainJournal(file, header, false);
  }

  /** Reads the journal into the blocks to re-mine and the transactions still pending. */
  plan(): ReplayPlan {
    const lines = readFileSync(this.file, 'utf8').split('\n').slice(1);
    const raw = new Map<string, string>();
    const blocks = new Map<number, BlockEntry>();
    const gone = new Set<string>();
    for (const [i, text] of lines.entries()) {
      if (!text) continue;
      let line: JournalLine;
      try {
        line = JSON.parse(text) as JournalLine;
      } catch {
        // A torn last line (the process died mid-write) loses at most that line.
        if (i === lines.length - 1 || lines.slice(i + 1).every((l) => !l)) break;
        throw new OceanError('config_invalid', `chain journal ${this.file}: line ${i + 2} is not JSON`);
      }
      if ('tx' in line) raw.set(keccak256(line.tx), line.tx);
      else if ('b' in line) blocks.set(line.b, { n: line.b, ts: line.ts, txs: line.txs });
      else if ('drop' in line) gone.add(line.drop);
      else if ('revert' in line) {
        // Reverted blocks and their transactions vanish, as they do on the chain.
        for (const [n, block] of blocks) {
          if (n > line.revert) {
            for (const h of block.txs) gone.add(h);
            blocks.delete(n);
          }
        }
      }
    }
    const included = new Set<string>();
    for (const block of blocks.values()) for (const h of block.txs) included.add(h);
    const pending = [...raw.keys()].filter((h) => !included.has(h) && !gone.has(h));
    return { blocks: [...blocks.values()].sort((a, b) => a.n - b.n), raw, pending };
  }

  /** Re-mines the journaled blocks on a fresh chain made from the same genesis. */
  async replay(request: Request): Promise<{ blocks: number; transactions: number }> {
    const { blocks, raw, pending } = this.plan();
    let transactions = 0;
    await request('evm_setAutomine', [false]);
    try {
      for (const block of blocks) {
        const head = Number(await request('eth_blockNumber'));
        // Empty blocks are not journaled; mine as many so numbers stay the same.
        if (block.n > head + 1) await request('hardhat_mine', [hex(block.n - head - 1), '0x0']);
        for (const h of block.txs) {
          const tx = raw.get(h);
          if (!tx) throw new OceanError('config_invalid', `chain journal ${this.file}: block ${block.n} names an unknown transaction ${h}`);
          await request('eth_sendRawTransaction', [tx]);
          this.raw.set(h, tx);
        }
        await request('evm_setNextBlockTimestamp', [hex(block.ts)]);
        await request('evm_mine');
        const mined = (await request('eth_getBlockByNumber', [hex(block.n), false])) as { transactions: string[] } | null;
        const got = mined?.transactions ?? [];
        if (got.length !== block.txs.length || got.some((h, i) => h !== block.txs[i])) {
          throw new OceanError(
            'config_invalid',
            `chain journal ${this.file}: block ${block.n} replayed differently (${got.length} of ${block.txs.length} transactions in order); move the journal away to start a fresh chain`,
          );
        }
        transactions += got.length;
      }
      this.lastBlock = Number(await request('eth_blockNumber'));
      this.lastEntry = this.lastBlock;
      // Transactions that were waiting in the mempool go back there (one may have been replaced since).
      for (const h of pending) {
        const tx = raw.get(h) as string;
        this.raw.set(h, tx);
        await request('eth_sendRawTransaction', [tx]).catch(() => {});
      }
    } finally {
      await request('evm_setAutomine', [true]);
    }
    return { blocks: blocks.length, transactions };
  }

  /** Records an accepted raw transaction; called before its hash is answered. */
  recordTransaction(rawTx: string): void {
    this.raw.set(keccak256(rawTx), rawTx);
    this.append({ tx: rawTx });
  }

  recordDrop(hash: string): void {
    this.append({ drop: hash });
  }

  /** At stop: remembers the head even when it is an empty block, so block numbers carry on. */
  async recordHead(request: Request): Promise<void> {
    await this.sync(request);
    const head = (await request('eth_getBlockByNumber', ['latest', false])) as { number: string; timestamp: string };
    if (Number(head.number) > this.lastEntry) this.append({ b: Number(head.number), ts: Number(head.timestamp), txs: [] });
  }

  /** After evm_revert: blocks above `head` are gone. */
  recordRevert(head: number): void {
    this.lastBlock = Math.min(this.lastBlock, head);
    this.lastEntry = Math.min(this.lastEntry, head);
    this.append({ revert: head });
  }

  /** Journals every block mined since the last call (serialised; safe to call from anywhere). */
  sync(request: Request): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow(request)).catch(() => {});
    return this.syncing;
  }

  private async syncNow(request: Request): Promise<void> {
    const head = Number(await request('eth_blockNumber'));
    for (let n = this.lastBlock + 1; n <= head; n++) {
      const block = (await request('eth_getBlockByNumber', [hex(n), false])) as { timestamp: string; transactions: string[] } | null;
      if (!block) break;
      if (block.transactions.length > 0) {
        for (const h of block.transactions) {
          if (!this.raw.has(h)) this.recordTransaction(await rawFromNode(request, h));
        }
        this.append({ b: n, ts: Number(block.timestamp), txs: block.transactions });
        this.lastEntry = n;
      }
      this.lastBlock = n;
    }
  }

  private append(line: JournalLine): void {
    // Synchronous on purpose: a line is on disk before the caller answers anyone.
    appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }
}

/** Rebuilds a signed transaction the node accepted by other means (eth_sendTransaction). */
async function rawFromNode(request: Request, hash: string): Promise<string> {
  const t = (await request('eth_getTransactionByHash', [hash])) as Record<string, string> & { accessList?: unknown[] };
  const tx = Transaction.from({
    type: Number(t.type),
    to: t.to ?? null,
    nonce: Number(t.nonce),
    gasLimit: BigInt(t.gas),
    gasPrice: t.gasPrice !== undefined && Number(t.type) < 2 ? BigInt(t.gasPrice) : null,
    maxFeePerGas: t.maxFeePerGas !== undefined ? BigInt(t.maxFeePerGas) : null,
    maxPriorityFeePerGas: t.maxPriorityFeePerGas !== undefined ? BigInt(t.maxPriorityFeePerGas) : null,
    data: t.input,
    value: BigInt(t.value),
    chainId: t.chainId !== undefined ? BigInt(t.chainId) : null,
    accessList: (t.accessList as never) ?? null,
    signature: { r: t.r, s: t.s, v: t.yParity !== undefined ? 27 + Number(t.yParity) : Number(t.v) },
  });
  if (tx.hash !== hash) throw new OceanError('config_invalid', `cannot journal transaction ${hash}: rebuilt as ${tx.hash}`);
  return tx.serialized;
}
