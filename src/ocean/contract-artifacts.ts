// Ocean's compiled contracts (ABI + bytecode) read from the @oceanprotocol/contracts package, so the
// ABIs we call and the bytecode we deploy locally are exactly the ones Ocean publishes.
import { createRequire } from 'node:module';
import { type EventFragment, Interface, type InterfaceAbi, LogDescription } from 'ethers';

const require = createRequire(import.meta.url);

export interface ContractArtifact {
  contractName: string;
  abi: InterfaceAbi;
  bytecode: string;
}

/** Paths under `@oceanprotocol/contracts/artifacts/contracts/`. */
const ARTIFACT_PATHS = {
  OceanToken: 'utils/OceanToken.sol/OceanToken.json',
  OPFCommunityFeeCollector: 'communityFee/OPFCommunityFeeCollector.sol/OPFCommunityFeeCollector.json',
  FactoryRouter: 'pools/FactoryRouter.sol/FactoryRouter.json',
  FixedRateExchange: 'pools/fixedRate/FixedRateExchange.sol/FixedRateExchange.json',
  ERC20Template: 'templates/ERC20Template.sol/ERC20Template.json',
  ERC721Template: 'templates/ERC721Template.sol/ERC721Template.json',
  Dispenser: 'pools/dispenser/Dispenser.sol/Dispenser.json',
  ERC721Factory: 'ERC721Factory.sol/ERC721Factory.json',
  Escrow: 'escrow/Escrow.sol/Escrow.json',
} as const;

export type ArtifactName = keyof typeof ARTIFACT_PATHS;

const cache = new Map<ArtifactName, ContractArtifact>();
const interfaces = new Map<ArtifactName, Interface>();

export function loadArtifact(name: ArtifactName): ContractArtifact {
  let artifact = cache.get(name);
  if (!artifact) {
    artifact = require(`@oceanprotocol/contracts/artifacts/contracts/${ARTIFACT_PATHS[name]}`) as ContractArtifact;
    cache.set(name, artifact);
  }
  return artifact;
}

/** A shared, parsed ABI: building an ethers Interface costs milliseconds, so build each once. */
export function contractInterface(name: ArtifactName): Interface {
  let iface = interfaces.get(name);
  if (!iface) {
    iface = new Interface(loadArtifact(name).abi);
    iface.forEachEvent(memoizeTopicHash);
    interfaces.set(name, iface);
  }
  return iface;
}

/** The package's published addresses of Ocean's contracts on public networks, keyed by network name. */
export function publishedAddressBook(): Record<string, Record<string, unknown>> {
  return require('@oceanprotocol/contracts/addresses/address.json') as Record<string, Record<string, unknown>>;
}

const topicIndexes = new WeakMap<Interface, Map<string, EventFragment>>();

/**
 * ethers computes an event's `topicHash` (keccak of its signature, in JS) on every read, and reads it
 * for every log it decodes: kept on the fragment instead, once.
 */
function memoizeTopicHash(fragment: EventFragment): void {
  if (Object.hasOwn(fragment, 'topicHash')) return;
  Object.defineProperty(fragment, 'topicHash', { value: fragment.topicHash, enumerable: false });
}

/**
 * `iface.parseLog(log)` without its cost: ethers finds a log's event by hashing every event signature
 * of the ABI again for each log (keccak in JS: a third of a worker's CPU went to order checks).
 * Here each interface's topics are hashed once and looked up. Null for a log of no event of the ABI (or an
 * anonymous one); throws, like ethers, when the topic matches but the data does not decode.
 */
export function parseEventLog(iface: Interface, log: { topics: readonly string[]; data: string }): LogDescription | null {
  let index = topicIndexes.get(iface);
  if (!index) {
    const built = new Map<string, EventFragment>();
    iface.forEachEvent((fragment) => {
      memoizeTopicHash(fragment);
      const topic = fragment.topicHash.toLowerCase();
      if (!built.has(topic)) built.set(topic, fragment);
    });
    index = built;
    topicIndexes.set(iface, index);
  }
  const fragment = log.topics[0] ? index.get(log.topics[0].toLowerCase()) : undefined;
  if (!fragment || fragment.anonymous) return null;
  return new LogDescription(fragment, fragment.topicHash, iface.decodeEventLog(fragment, log.data, log.topics));
}
