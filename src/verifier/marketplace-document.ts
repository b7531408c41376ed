// The marketplace's published identity (`GET /.well-known/posthuman-marketplace.json`): the chain,
// the log NFT its tree heads are anchored on, the wallet that anchors them, the wallet that places
// job orders, and where its keys are. A verifier pins a saved copy instead of asking each time.
import { getAddress, isAddress } from 'ethers';
import { type Static, Type } from 'typebox';

export const MARKETPLACE_DOCUMENT_PATH = '/.well-known/posthuman-marketplace.json';

const Address = (description: string) =>
  Type.Union([Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' }), Type.Null()], { description: `${description}; null when the gateway runs without a chain` });
const Url = (description: string) => Type.String({ format: 'uri', description });

export const MarketplaceDocumentSchema = Type.Object(
  {
    gateway_url: Url("The gateway's base URL, as it answered this request"),
    jwks_url: Url('The JWKS of every receipt and tree-head signing key, current and retired'),
    chain_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The chain orders and anchors are on; null without a chain' }),
    log_nft_address: Address('The data NFT whose ERC725 data holds each anchored tree head'),
    anchoring_address: Address('The wallet that sends every anchoring transaction (the publisher wallet)'),
    consumer_address: Address('The wallet that places every job order'),
    provider_address: Address("The workers' provider-fee address every order pays"),
  },
  {
    additionalProperties: false,
    title: 'MarketplaceDocument',
    examples: [
      {
        gateway_url: 'http://127.0.0.1:8080',
        jwks_url: 'http://127.0.0.1:8080/.well-known/jwks.json',
        chain_id: 8996,
        log_nft_address: '0x80E2…7151',
        anchoring_address: '0x5A1c…09F2',
        consumer_address: '0x32E3…6Ee0',
        provider_address: '0x9d4B…12aC',
      },
    ],
  },
);
export type MarketplaceDocument = Static<typeof MarketplaceDocumentSchema>;

/** What the checks compare the chain against; a field left out is not checked (and the check says so). */
export interface MarketplaceIdentity {
  chainId?: number | null;
  logNft?: string | null;
  anchorer?: string | null;
  consumer?: string | null;
  provider?: string | null;
}

export function identityOf(doc: MarketplaceDocument): MarketplaceIdentity {
  return {
    chainId: doc.chain_id,
    logNft: doc.log_nft_address,
    anchorer: doc.anchoring_address,
    consumer: doc.consumer_address,
    provider: doc.provider_address,
  };
}

function field<T>(doc: Record<string, unknown>, name: string, read: (v: unknown) => T | undefined, want: string): T {
  const value = read(doc[name]);
  if (value === undefined) throw new TypeError(`"${name}" must be ${want} (got ${JSON.stringify(doc[name]) ?? 'nothing'})`);
  return value;
}

const url = (v: unknown) => (typeof v === 'string' && URL.canParse(v) ? v : undefined);
const address = (v: unknown) => (v === null ? null : typeof v === 'string' && isAddress(v) ? getAddress(v) : undefined);
const chainId = (v: unknown) => (v === null ? null : Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : undefined);

/** Reads a marketplace document (fetched, or a saved copy); throws naming the first bad field. */
export function parseMarketplaceDocument(value: unknown): MarketplaceDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('not a JSON object');
  const doc = value as Record<string, unknown>;
  return {
    gateway_url: field(doc, 'gateway_url', url, 'a URL'),
    jwks_url: field(doc, 'jwks_url', url, 'a URL'),
    chain_id: field(doc, 'chain_id', chainId, 'a chain id or null'),
    log_nft_address: field(doc, 'log_nft_address', address, 'an address or null'),
    anchoring_address: field(doc, 'anchoring_address', address, 'an address or null'),
    consumer_address: field(doc, 'consumer_address', address, 'an address or null'),
    provider_address: field(doc, 'provider_address', address, 'an address or null'),
  };
}

