// Builds the DDO (v4.1) of a compute-only Ocean asset (a model's weights or a training dataset,
// named by its sha256), its DID the way ocean.js's generateDid does, and its metaDataHash the way
// ocean-node's indexer checks it, so Ocean tooling and an indexer read our assets like their own.
import { createHash } from 'node:crypto';
import { getAddress, hexlify, sha256, toUtf8Bytes } from 'ethers';

export const DDO_VERSION = '4.1.0';
const DDO_CONTEXT = ['https://w3id.org/did/v1'];

/** What a compute-only asset holds: a model's weights or a dataset's bytes, never served either way. */
export type AssetKind = 'model' | 'dataset';
/** The content of an asset, named by the sha256 of its bytes. */
export interface AssetContent {
  kind: AssetKind;
  sha256: string;
}
/** The DDO's `metadata.additionalInformation` field that carries the content's sha256. */
export const CONTENT_SHA256_FIELD = { model: 'weights_sha256', dataset: 'dataset_sha256' } as const satisfies Record<AssetKind, string>;

/** A model's input names its weights (`weightsSha256`); any asset may name its `content` instead. */
export type ContentInput = { weightsSha256: string } | { content: AssetContent };
export const contentOf = (input: ContentInput): AssetContent =>
  'content' in input ? { kind: input.content.kind, sha256: normalizeSha256(input.content.sha256) } : { kind: 'model', sha256: normalizeSha256(input.weightsSha256) };

/** An algorithm allowed to run on the asset: ours only (the marketplace's runtime). */
export interface TrustedAlgorithm {
  did: string;
  filesChecksum: string;
  containerSectionChecksum: string;
}

export interface ComputeService {
  id: string;
  type: 'compute';
  /**
   * Ocean's files object encrypted to the provider's key (service-files.ts): what ocean-node decrypts
   * at compute initialize. It names the content by hash; it is never downloadable.
   */
  files: string;
  datatokenAddress: string;
  serviceEndpoint: string;
  timeout: number;
  compute: {
    allowRawAlgorithm: false;
    allowNetworkAccess: false;
    publisherTrustedAlgorithmPublishers: string[];
    publisherTrustedAlgorithms: TrustedAlgorithm[];
  };
}

export interface ComputeDdo {
  '@context': string[];
  id: string;
  version: string;
  chainId: number;
  nftAddress: string;
  metadata: {
    created: string;
    updated: string;
    type: 'dataset';
    name: string;
    description: string;
    author: string;
    license: string;
    tags?: string[];
    additionalInformation: Partial<Record<(typeof CONTENT_SHA256_FIELD)[AssetKind], string>> & Record<string, unknown>;
  };
  services: [ComputeService];
}

export type ComputeDdoInput = ComputeDdoFields & ContentInput;

interface ComputeDdoFields {
  nftAddress: string;
  chainId: number;
  datatokenAddress: string;
  serviceId: string;
  name: string;
  description?: string;
  author?: string;
  license?: string;
  tags?: string[];
  /** Seconds an order stays usable (the service's `timeout`); 0 = no limit. */
  serviceTimeout: number;
  serviceEndpoint: string;
  /** The encrypted files object (`0x…` hex); never empty. */
  files: string;
  trustedAlgorithm: TrustedAlgorithm;
  created?: Date;
  additionalInformation?: Record<string, unknown>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Lower-case 64-hex sha256 without 0x; throws RangeError on anything else. */
export function normalizeSha256(value: string): string {
  const hex = value.toLowerCase().replace(/^0x/, '');
  if (!SHA256_HEX.test(hex)) throw new RangeError(`not a sha256 hex digest: "${value}"`);
  return hex;
}

/** `did:op:` + sha256(checksummed NFT address + decimal chain id), as ocean.js generateDid. */
export function generateDid(nftAddress: string, chainId: number): string {
  const digest = createHash('sha256').update(getAddress(nftAddress) + chainId.toString(10)).digest('hex');
  return `did:op:${digest}`;
}

/** A stable service id: the same datatoken and index always give the same id. */
export function computeServiceId(datatokenAddress: string, index = 0): string {
  return sha256(toUtf8Bytes(`${getAddress(datatokenAddress)}:compute:${index}`)).slice(2);
}

export function buildComputeDdo(input: ComputeDdoInput): ComputeDdo {
  if (!Number.isInteger(input.serviceTimeout) || input.serviceTimeout < 0) {
    throw new RangeError('serviceTimeout must be a whole number of seconds');
  }
  // ocean-node's initialize decrypts `files` with its key; an empty string makes it refuse the service.
  if (!/^0x[0-9a-fA-F]{2,}$/.test(input.files)) throw new RangeError('files must be the encrypted files object as 0x hex');
  const created = (input.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const content = contentOf(input);
  const metadata: ComputeDdo['metadata'] = {
    created,
    updated: created,
    // Ocean's asset type for anything an algorithm computes on (it has 'dataset' and 'algorithm').
    type: 'dataset',
    name: input.name,
    description: input.description ?? `${content.kind === 'model' ? 'Transformer model' : 'Training dataset'} ${input.name}, compute-only`,
    author: input.author ?? 'Posthuman Gateway',
    license: input.license ?? 'proprietary',
    additionalInformation: { ...input.additionalInformation, [CONTENT_SHA256_FIELD[content.kind]]: content.sha256 },
  };
  if (input.tags) metadata.tags = input.tags;
  return {
    '@context': DDO_CONTEXT,
    id: generateDid(input.nftAddress, input.chainId),
    version: DDO_VERSION,
    chainId: input.chainId,
    nftAddress: getAddress(input.nftAddress),
    metadata,
    services: [
      {
        id: input.serviceId,
        type: 'compute',
        files: input.files,
        datatokenAddress: getAddress(input.datatokenAddress),
        serviceEndpoint: input.serviceEndpoint,
        timeout: input.serviceTimeout,
        compute: {
          allowRawAlgorithm: false,
          allowNetworkAccess: false,
          publisherTrustedAlgorithmPublishers: [],
          publisherTrustedAlgorithms: [{ ...input.trustedAlgorithm }],
        },
      },
    ],
  };
}

/**
 * The exact bytes set on chain (the UTF-8 JSON text) and the contract's `metaDataHash`: as ocean.js
 * publishes and ocean-node's indexer checks an unencrypted DDO, the sha256 of the *hex text* of
 * those bytes ("0x…" as ASCII), not of the bytes themselves.
 */
export function encodeDdo(ddo: ComputeDdo): { bytes: Uint8Array; hash: string } {
  const bytes = toUtf8Bytes(JSON.stringify(ddo));
  return { bytes, hash: metaDataHash(bytes) };
}

/** `0x` + sha256(hexlify(bytes) as UTF-8 text): ocean-node's `checkDdoHash`. */
export function metaDataHash(bytes: Uint8Array): string {
  return `0x${createHash('sha256').update(hexlify(bytes), 'utf8').digest('hex')}`;
}
