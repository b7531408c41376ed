// What a worker must know about each model NFT that can change on chain, kept fresh without a round
// trip per job: its metadata state (a revoked or deprecated asset stops serving) and the weights
// sha256 in its ERC725 store. Each NFT is read once, then one background poll per interval reads the
// chain head (also the chain's clock) and the NFTs' MetadataState / MetadataUpdated / DataChanged
// events since the last poll. A job reads the cached state; only a stale cache (the poll failing or
// late) makes it wait for a fresh poll.
import type { JsonRpcProvider, Log } from 'ethers';
import { decodeWeightsValue } from '../verifier/chain-abi.js';
import { contractInterface, parseEventLog } from './contract-artifacts.js';
import { WEIGHTS_SHA256_KEY } from './model-publisher.js';
import { OceanError } from './ocean-error.js';
import { toOceanError } from './rpc-errors.js';

/** Ocean's metadata states (ERC721Template `metaDataState`, ocean-node's MetadataStates). */
export const METADATA_STATES = { active: 0, endOfLife: 1, deprecated: 2, revoked: 3, orderingDisabled: 4, unlisted: 5 } as const;
const STATE_NAMES = ['active', 'end of life', 'deprecated', 'revoked', 'ordering disabled', 'unlisted'];
export const metadataStateName = (state: number) => STATE_NAMES[state] ?? `unknown (${state})`;
/** States in which ocean-node still serves an asset (its isOrderingAllowedForAsset: ACTIVE or UNLISTED). */
export const isServingState = (state: number) => state === METADATA_STATES.active || state === METADATA_STATES.unlisted;

export interface NftState {
  metadataState: number;
  /** 64 hex, or null when none is registered. */
  weightsSha256: string | null;
  /** The block of the DataChanged that last set the weights hash after it was first read, if any. */
  weightsChangedAt?: number;
  /** Every change up to this block is applied. */
  block: number;
}

export interface NftWatchOptions {
  /** Background poll period. Default 1000 ms. */
  intervalMs?: number;
  /** A cache older than this is refreshed before it is used. Default max(3 × interval, 5 s). */
  staleMs?: number;
  /** More blocks than this behind (a long outage): states are read afresh instead of replayed. Default 2000. */
  maxLogRange?: number;
  onError?: (err: OceanError) => void;
}

const nftIface = contractInterface('ERC721Template');
const TOPICS = ['MetadataState', 'MetadataUpdated', 'MetadataCreated', 'DataChanged'].map((name) => nftIface.getEvent(name)!.topicHash);

export function createNftWatch(provider: JsonRpcProvider, options: NftWatchOptions = {}) {
  const intervalMs = options.intervalMs ?? 1000;
  const staleMs = options.staleMs ?? Math.max(3 * intervalMs, 5_000);
  const maxLogRange = options.maxLogRange ?? 2_000;
  const states = new Map<string, NftState>();
  const loading = new Map<string, Promise<NftState>>();
  let head: { number: number; timestamp: number; seenAt: number } | undefined;
  let polling: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function call(to: string, fn: string, args: unknown[], blockTag: number) {
    return nftIface.decodeFunctionResult(fn, await provider.call({ to, data: nftIface.encodeFunctionData(fn, args), blockTag }));
  }

  /** The NFT's state at `block` (three calls, in parallel). */
  async function read(nft: string, block: number): Promise<NftState> {
    const [code, meta, data] = await Promise.allSettled([
      provider.getCode(nft, block),
      call(nft, 'getMetaData', [], block),
      call(nft, 'getData', [WEIGHTS_SHA256_KEY], block),
    ]);
    // An address without code answers calls with nothing: that is the finding, not the decode error.
    if (code.status === 'fulfilled' && code.value === '0x') throw new OceanError('invalid_argument', `no data NFT at ${nft}`);
    if (code.status === 'rejected') throw code.reason;
    if (meta.status === 'rejected') throw meta.reason;
    if (data.status === 'rejected') throw data.reason;
    return { metadataState: Number(meta.value[2]), weightsSha256: decodeWeightsValue(data.value[0] as string), block };
  }

  function apply(log: Log) {
    const state = states.get(log.address.toLowerCase());
    if (!state || log.blockNumber <= state.block) return;
    const event = parseEventLog(nftIface, log);
    if (!event) return;
    if (event.name === 'DataChanged') {
      if (event.args.key !== WEIGHTS_SHA256_KEY) return;
      state.weightsSha256 = decodeWeightsValue(event.args.value as string);
      state.weightsChangedAt = log.blockNumber;
    } else {
      state.metadataState = Number(event.args.state);
    }
  }

  async function pollOnce(): Promise<void> {
    const block = await provider.getBlock('latest');
    if (!block) throw new OceanError('rpc_unavailable', 'the RPC returned no latest block');
    const watched = [...states.entries()];
    if (watched.length > 0) {
      const from = Math.min(...watched.map(([, s]) => s.block)) + 1;
      if (block.number - from > maxLogRange) {
        // Too far behind to replay cheaply: forget, and read each NFT afresh on its next use.
        for (const [nft] of watched) states.delete(nft);
      } else if (from <= block.number) {
        const logs = await provider.getLogs({ address: watched.map(([nft]) => nft), topics: [TOPICS], fromBlock: from, toBlock: block.number });
        logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
        for (const log of logs) apply(log);
        for (const [, state] of watched) state.block = Math.max(state.block, block.number);
      }
    }
    head = { number: block.number, timestamp: block.timestamp, seenAt: Date.now() };
  }

  /** One poll at a time; callers arriving during a poll share it. */
  function poll(): Promise<void> {
    polling ??= pollOnce()
      .catch((err) => {
        throw toOceanError(err, 'watching model NFTs');
      })
      .finally(() => {
        polling = undefined;
      });
    return polling;
  }

  function start() {
    if (timer || closed) return;
    timer = setInterval(() => {
      poll().catch((err) => options.onError?.(err));
    }, intervalMs);
    timer.unref();
  }

  const fresh = () => head !== undefined && Date.now() - head.seenAt <= staleMs;

  return {
    /** The NFT's current state: cached and kept fresh by events; read from chain on first use. */
    async state(nftAddress: string): Promise<NftState> {
      start();
      const key = nftAddress.toLowerCase();
      if (!fresh()) await poll();
      const known = states.get(key);
      if (known) return known;
      let pending = loading.get(key);
      if (!pending) {
        // Read at a block known now (the NFT may be younger than the last poll); the next poll's
        // events continue from there.
        pending = provider
          .getBlockNumber()
          .then((latest) => read(nftAddress, latest))
          .then((state) => {
            states.set(key, state);
            return state;
          })
          .catch((err) => {
            throw err instanceof OceanError ? err : toOceanError(err, `reading model NFT ${nftAddress}`);
          })
          .finally(() => loading.delete(key));
        loading.set(key, pending);
      }
      return pending;
    },

    /** Unix seconds: the later of the wall clock and the chain's clock at the last poll (a local chain may run ahead). */
    now(): number {
      const wall = Math.floor(Date.now() / 1000);
      if (!head) return wall;
      return Math.max(wall, head.timestamp + Math.floor((Date.now() - head.seenAt) / 1000));
    },

    /** Reads the chain now (what the background timer does every interval). */
    refresh: () => poll(),

    close() {
      closed = true;
      if (timer) clearInterval(timer);
    },
  };
}

export type NftWatch = ReturnType<typeof createNftWatch>;
