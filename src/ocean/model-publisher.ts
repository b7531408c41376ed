// Publishes content named by its sha256 (a model's weights, a training dataset) as a compute-only
// Ocean asset: NFT + datatoken (+ dispenser or fixed-rate exchange), a DDO v4.1 set on chain, and the
// content's sha256 in the NFT's ERC725 store. The DDO is what ocean-node indexes: checked by Ocean's
// validator before any transaction, hashed as ocean-node checks it, its files encrypted to the
// provider, its endpoint public on a public network.
import { type JsonRpcProvider, type Log, ZeroAddress, getAddress, hexlify, keccak256, parseEther, toUtf8Bytes } from 'ethers';
import { decodeWeightsValue } from '../verifier/chain-abi.js';
import { contractInterface, parseEventLog } from './contract-artifacts.js';
import {
  type AssetContent,
  type AssetKind,
  type ComputeDdo,
  type TrustedAlgorithm,
  buildComputeDdo,
  computeServiceId,
  encodeDdo,
  generateDid,
  normalizeSha256,
} from './ddo-builder.js';
import { assertValidDdo } from './ddo-validation.js';
import { GAS } from './gas-limits.js';
import type { ManagedSigner, SentTx } from './nonce-manager.js';
import type { OceanAddresses } from './ocean-addresses.js';
import { OceanError } from './ocean-error.js';
import { toOceanError } from './rpc-errors.js';
import { checkServiceEndpoint } from './service-endpoint.js';
import { encryptServiceFiles, serviceFilesObject } from './service-files.js';

/**
 * ERC725 entries, as ocean.js reads them: `Nft.getData(nft, key)` looks up keccak256(key) and decodes
 * the value as UTF-8, so each value is UTF-8 text and each `key` below is the hex of its name.
 */
export const ERC725_NAMES = {
  weightsSha256: 'posthuman.weights_sha256',
  datasetSha256: 'posthuman.dataset_sha256',
  parentNft: 'posthuman.parent_nft',
} as const;
/** The `key` argument of ocean.js `Nft.getData` for each entry (hex of the UTF-8 name). */
export const OCEAN_JS_DATA_KEYS = {
  weightsSha256: hexlify(toUtf8Bytes(ERC725_NAMES.weightsSha256)),
  datasetSha256: hexlify(toUtf8Bytes(ERC725_NAMES.datasetSha256)),
  parentNft: hexlify(toUtf8Bytes(ERC725_NAMES.parentNft)),
} as const;
/** ERC725 storage key of the weights sha256 (64 lower-case hex, as UTF-8 text). */
export const WEIGHTS_SHA256_KEY = keccak256(toUtf8Bytes(ERC725_NAMES.weightsSha256));
/** ERC725 storage key of a dataset's sha256 (of its bytes as uploaded; 64 lower-case hex, as UTF-8 text). */
export const DATASET_SHA256_KEY = keccak256(toUtf8Bytes(ERC725_NAMES.datasetSha256));
/** Per kind of asset: where its sha256 is stored on the NFT, and the name of the transaction that stores it. */
const CONTENT_ON_CHAIN = {
  model: { key: WEIGHTS_SHA256_KEY, tx: 'setWeightsHash', symbol: 'MODEL' },
  dataset: { key: DATASET_SHA256_KEY, tx: 'setDatasetHash', symbol: 'DATASET' },
} as const satisfies Record<AssetKind, { key: string; tx: string; symbol: string }>;
/** ERC725 storage key of a derived model's parent NFT address (checksummed, as UTF-8 text). */
export const PARENT_NFT_KEY = keccak256(toUtf8Bytes(ERC725_NAMES.parentNft));

/** An ERC725 value ocean.js `getData` reads back as `text`. */
export const erc725Text = (text: string) => hexlify(toUtf8Bytes(text));

export type ModelPricing = { type: 'free' } | { type: 'fixed'; priceOcean: string };

export interface PublishModelInput extends PublishAssetFields {
  weightsSha256: string;
}

/** Any compute-only asset: a model (as publishModel) or a dataset, named by its content's sha256. */
export interface PublishComputeAssetInput extends PublishAssetFields {
  content: AssetContent;
}

interface PublishAssetFields {
  name: string;
  symbol?: string;
  description?: string;
  author?: string;
  license?: string;
  tags?: string[];
  pricing: ModelPricing;
  /** Receives the NFT (and the datatoken revenue) once published; default: the publisher wallet. */
  ownerAddress?: string;
  /** Seconds an order stays usable; 0 = no limit. */
  serviceTimeout: number;
  /** The marketplace runtime, the only algorithm allowed to compute on the content. */
  trustedAlgorithm: TrustedAlgorithm;
  serviceEndpoint?: string;
  /** A fine-tuned model's parent asset: recorded in the DDO and as ERC725 data on the new NFT. */
  parent?: { did: string; nftAddress: string; weightsSha256: string };
}

export interface PublishedAsset {
  did: string;
  nftAddress: string;
  datatokenAddress: string;
  serviceId: string;
  serviceIndex: 0;
  /** Set for fixed-price assets. */
  exchangeId?: string;
  /** `create`, `setMetadata`, the content hash's (`setWeightsHash` or `setDatasetHash`), then `setParent`, `transfer` when sent. */
  txHashes: Record<string, string>;
  ddo: ComputeDdo;
}

export interface PublishedModel extends Omit<PublishedAsset, 'txHashes'> {
  txHashes: { create: string; setMetadata: string; setWeightsHash: string; setParent?: string; transfer?: string };
}

export interface ModelPublisherDeps {
  publisher: ManagedSigner;
  chainId: number;
  addresses: OceanAddresses;
  marketplaceFeeAddress: string;
  serviceEndpoint: string;
  /** The provider's secp256k1 public key: each service's files are encrypted to it (ECIES). */
  providerPublicKey: string;
}

/** Stand-in addresses for the validation before the create transaction (the real ones come from it). */
const DRAFT_NFT = '0x0000000000000000000000000000000000000001';
const DRAFT_DATATOKEN = '0x0000000000000000000000000000000000000002';

/** Cap and per-call limits large enough never to be the reason an order fails. */
const DATATOKEN_CAP = parseEther('1000000000000');
const DISPENSER_LIMIT = parseEther('1000000');

function findEvent(logs: readonly Log[], name: string, iface = contractInterface('ERC721Factory')) {
  for (const log of logs) {
    try {
      const parsed = parseEventLog(iface, log);
      if (parsed?.name === name) return parsed;
    } catch {
      // Same topic, other layout: not ours.
    }
  }
  return undefined;
}

function shortSymbol(name: string, kind: AssetKind): string {
  const letters = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return (letters || CONTENT_ON_CHAIN[kind].symbol).slice(0, 8);
}

export function createModelPublisher(deps: ModelPublisherDeps) {
  const { publisher, addresses } = deps;
  const factory = contractInterface('ERC721Factory');
  const nft = contractInterface('ERC721Template');

  function createCall(input: PublishComputeAssetInput, symbol: string, owner: string): string {
    const nftData = { name: input.name, symbol, templateIndex: 1, tokenURI: '', transferable: true, owner: publisher.address };
    const ercData = {
      templateIndex: 1,
      strings: [`${input.name} access`, `${symbol}-DT`],
      // minter, payment collector, publish-market fee address, publish-market fee token
      addresses: [publisher.address, owner, deps.marketplaceFeeAddress, addresses.Ocean],
      uints: [DATATOKEN_CAP, 0n],
      bytess: [],
    };
    if (input.pricing.type === 'free') {
      const dispenser = { dispenserAddress: addresses.Dispenser, maxTokens: DISPENSER_LIMIT, maxBalance: DISPENSER_LIMIT, withMint: true, allowedSwapper: ZeroAddress };
      return factory.encodeFunctionData('createNftWithErc20WithDispenser', [nftData, ercData, dispenser]);
    }
    const rate = parseEther(input.pricing.priceOcean);
    if (rate < 10n ** 10n) throw new OceanError('invalid_argument', 'priceOcean is below the exchange minimum (1e-8)');
    const fixed = {
      fixedPriceAddress: addresses.FixedPrice,
      // base token, exchange owner, market fee collector, allowed swapper (0 = anyone)
      addresses: [addresses.Ocean, owner, deps.marketplaceFeeAddress, ZeroAddress],
      // base decimals, datatoken decimals, rate, market fee, mint on demand
      uints: [18n, 18n, rate, 0n, 1n],
    };
    return factory.encodeFunctionData('createNftWithErc20WithFixedRate', [nftData, ercData, fixed]);
  }

  function ddoFor(input: PublishComputeAssetInput, nftAddress: string, datatokenAddress: string, serviceEndpoint: string) {
    const files = encryptServiceFiles(serviceFilesObject({ nftAddress, datatokenAddress, content: input.content }), deps.providerPublicKey);
    return buildComputeDdo({
      ...input,
      ...(input.parent
        ? {
            additionalInformation: {
              parent: { did: input.parent.did, nft_address: getAddress(input.parent.nftAddress), weights_sha256: normalizeSha256(input.parent.weightsSha256) },
            },
          }
        : {}),
      nftAddress,
      chainId: deps.chainId,
      datatokenAddress,
      serviceId: computeServiceId(datatokenAddress, 0),
      serviceEndpoint,
      files,
    });
  }

  async function publishComputeAsset(asset: PublishComputeAssetInput): Promise<PublishedAsset> {
    const { kind } = asset.content;
    const input = { ...asset, content: { kind, sha256: normalizeSha256(asset.content.sha256) } };
    if (!input.name.trim()) throw new OceanError('invalid_argument', 'name is required');
    const serviceEndpoint = checkServiceEndpoint(input.serviceEndpoint ?? deps.serviceEndpoint, deps.chainId);
    // Before any transaction: the same DDO with stand-in addresses goes through Ocean's validator, so
    // a DDO Ocean would refuse costs no gas (the addresses only change the DID and service id).
    await assertValidDdo(ddoFor(input, DRAFT_NFT, DRAFT_DATATOKEN, serviceEndpoint));
    const owner = getAddress(input.ownerAddress ?? publisher.address);
    const symbol = input.symbol ?? shortSymbol(input.name, kind);
    const data = createCall(input, symbol, owner);
    const done: string[] = [];
    try {
      const createReceipt = await publisher.sendAndWait({ to: addresses.ERC721Factory, data, gasLimit: GAS.createModel });
      done.push(createReceipt.hash);
      const nftAddress = findEvent(createReceipt.logs, 'NFTCreated')?.args.newTokenAddress as string | undefined;
      const datatokenAddress = findEvent(createReceipt.logs, 'TokenCreated')?.args.newTokenAddress as string | undefined;
      if (!nftAddress || !datatokenAddress) throw new OceanError('publish_failed', 'factory emitted no NFTCreated/TokenCreated');
      const exchangeId = findEvent(createReceipt.logs, 'NewFixedRate')?.args.exchangeId as string | undefined;

      const serviceId = computeServiceId(datatokenAddress, 0);
      const ddo = ddoFor(input, nftAddress, datatokenAddress, serviceEndpoint);
      await assertValidDdo(ddo);
      const encoded = encodeDdo(ddo);
      // Sent back to back: nonces keep them in order, and they share a block on interval mining.
      const sent: SentTx[] = [];
      const setMeta = nft.encodeFunctionData('setMetaData', [0, ddo.services[0].serviceEndpoint, '', '0x00', encoded.bytes, encoded.hash, []]);
      sent.push(await publisher.send({ to: nftAddress, data: setMeta, gasLimit: GAS.setMetaDataBase + 40n * BigInt(encoded.bytes.length) }));
      const setContent = nft.encodeFunctionData('setNewData', [CONTENT_ON_CHAIN[kind].key, erc725Text(input.content.sha256)]);
      sent.push(await publisher.send({ to: nftAddress, data: setContent, gasLimit: GAS.setNewData }));
      if (input.parent) {
        const setParent = nft.encodeFunctionData('setNewData', [PARENT_NFT_KEY, erc725Text(getAddress(input.parent.nftAddress))]);
        sent.push(await publisher.send({ to: nftAddress, data: setParent, gasLimit: GAS.setNewData }));
      }
      if (owner !== publisher.address) {
        const transfer = nft.encodeFunctionData('transferFrom', [publisher.address, owner, 1]);
        sent.push(await publisher.send({ to: nftAddress, data: transfer, gasLimit: GAS.transferNft }));
      }
      const receipts = await Promise.all(sent.map((tx) => publisher.wait(tx)));
      return {
        did: generateDid(nftAddress, deps.chainId),
        nftAddress: getAddress(nftAddress),
        datatokenAddress: getAddress(datatokenAddress),
        serviceId,
        serviceIndex: 0,
        ...(exchangeId ? { exchangeId } : {}),
        txHashes: {
          create: createReceipt.hash,
          setMetadata: receipts[0].hash,
          [CONTENT_ON_CHAIN[kind].tx]: receipts[1].hash,
          ...(input.parent ? { setParent: receipts[2].hash } : {}),
          ...(receipts[input.parent ? 3 : 2] ? { transfer: receipts[input.parent ? 3 : 2].hash } : {}),
        },
        ddo,
      };
    } catch (err) {
      if (err instanceof OceanError && err.code === 'ddo_invalid') throw err;
      const e = toOceanError(err, `publishing ${kind}`);
      throw new OceanError('publish_failed', `${e.message} (confirmed: ${done.join(', ') || 'none'})`, { cause: e, txHash: e.txHash });
    }
  }

  /** A model: the same transactions and bytes as any asset whose content is its weights. */
  async function publishModel({ weightsSha256, ...input }: PublishModelInput): Promise<PublishedModel> {
    return (await publishComputeAsset({ ...input, content: { kind: 'model', sha256: weightsSha256 } })) as PublishedModel;
  }

  return { publishModel, publishComputeAsset };
}

export type ModelPublisher = ReturnType<typeof createModelPublisher>;

/** The weights' sha256 (64 hex, no 0x) registered on the NFT, or null if none is set. */
export const readWeightsSha256FromChain = (provider: JsonRpcProvider, nftAddress: string): Promise<string | null> =>
  readContentSha256FromChain(provider, nftAddress, 'model');

/** The sha256 (64 hex, no 0x) an asset of this kind registered on its NFT, or null if none is set. */
export async function readContentSha256FromChain(provider: JsonRpcProvider, nftAddress: string, kind: AssetKind): Promise<string | null> {
  const nft = contractInterface('ERC721Template');
  try {
    const raw = await provider.call({ to: nftAddress, data: nft.encodeFunctionData('getData', [CONTENT_ON_CHAIN[kind].key]) });
    if (raw === '0x') throw new OceanError('invalid_argument', `no data NFT at ${nftAddress}`);
    const [value] = nft.decodeFunctionResult('getData', raw);
    return decodeWeightsValue(hexlify(value as string));
  } catch (err) {
    throw toOceanError(err, `reading the ${kind} sha256 of ${nftAddress}`);
  }
}
