// Decides what the checks trust, and says so: each piece of the marketplace's identity and its keys
// is either pinned by the user (a saved /.well-known document, a flag, a JWKS file) or fetched from
// the gateway being checked, which then vouches for itself. The report names which is which.
import { getJson } from './fetch-json.js';
import { isTrustedKeys, type TrustedKeys } from './keys.js';
import {
  MARKETPLACE_DOCUMENT_PATH,
  type MarketplaceDocument,
  type MarketplaceIdentity,
  parseMarketplaceDocument,
} from './marketplace-document.js';

export interface TrustPins {
  /** A saved copy of the marketplace document, and where it came from (a file name). */
  document?: { value: MarketplaceDocument; source: string };
  /** Single addresses pinned one by one (e.g. by flags); `source` names the flag. */
  logNft?: { value: string; source: string };
  anchorer?: { value: string; source: string };
  consumer?: { value: string; source: string };
  /** Keys pinned (a JWKS or one JWK), and where they came from. */
  keys?: { value: TrustedKeys; source: string };
}

export interface TrustedValue {
  value: string | number | null;
  pinned: boolean;
  /** A file or flag when pinned, the URL it was fetched from otherwise; "unknown" when neither. */
  source: string;
}

export interface TrustReport {
  /** True when the keys and every identity field the checks need were pinned. */
  pinned: boolean;
  /** One sentence each, e.g. "from the gateway's /.well-known document (not pinned)". */
  identity: string;
  keys: string;
  fields: {
    keys: TrustedValue;
    chain_id: TrustedValue;
    log_nft: TrustedValue;
    anchorer: TrustedValue;
    consumer: TrustedValue;
    provider: TrustedValue;
  };
}

export interface ResolvedTrust {
  identity: MarketplaceIdentity;
  keys: TrustedKeys;
  report: TrustReport;
}

/** The keys were neither pinned nor readable from the gateway: there is nothing to check against. */
export class KeysUnavailableError extends Error {
  override name = 'KeysUnavailableError';
}

type IdentityField = 'log_nft' | 'anchorer' | 'consumer';
const LABEL: Record<IdentityField, string> = { log_nft: 'log NFT', anchorer: 'anchoring address', consumer: 'consumer' };

/**
 * Fills every identity field and the keys from the pins, the rest from the gateway (its
 * /.well-known document and JWKS). A document that cannot be fetched leaves its fields unknown
 * (the checks needing them fail); keys that cannot be fetched throw KeysUnavailableError.
 */
export async function resolveTrust(input: { gateway: string; pins: TrustPins }): Promise<ResolvedTrust> {
  const { gateway, pins } = input;
  const documentUrl = `${gateway}${MARKETPLACE_DOCUMENT_PATH}`;
  let document = pins.document;
  let documentError: string | undefined;
  if (!document) {
    try {
      document = { value: parseMarketplaceDocument(await getJson(documentUrl)), source: documentUrl };
    } catch (err) {
      documentError = (err as Error).message;
    }
  }
  const fromDocument = (value: string | number | null | undefined): TrustedValue =>
    document && value !== undefined
      ? { value, pinned: pins.document !== undefined, source: document.source }
      : { value: null, pinned: false, source: 'unknown' };
  const pick = (pin: { value: string; source: string } | undefined, value: string | null | undefined): TrustedValue =>
    pin ? { value: pin.value, pinned: true, source: pin.source } : fromDocument(value);

  const doc = document?.value;
  const fields: Omit<TrustReport['fields'], 'keys'> = {
    chain_id: fromDocument(doc?.chain_id),
    log_nft: pick(pins.logNft, doc?.log_nft_address),
    anchorer: pick(pins.anchorer, doc?.anchoring_address),
    consumer: pick(pins.consumer, doc?.consumer_address),
    provider: fromDocument(doc?.provider_address),
  };

  let keys: TrustedKeys;
  let keysField: TrustedValue;
  if (pins.keys) {
    keys = pins.keys.value;
    keysField = { value: null, pinned: true, source: pins.keys.source };
  } else {
    // A pinned document names its JWKS; otherwise the gateway being checked serves its own.
    const jwksUrl = pins.document?.value.jwks_url ?? `${gateway}/.well-known/jwks.json`;
    let fetched: unknown;
    try {
      fetched = await getJson(jwksUrl);
    } catch (err) {
      throw new KeysUnavailableError(`${(err as Error).message} (pin keys with --jwks FILE)`);
    }
    if (!isTrustedKeys(fetched)) throw new KeysUnavailableError(`${jwksUrl} is not a JWKS (pin keys with --jwks FILE)`);
    keys = fetched;
    keysField = { value: null, pinned: false, source: jwksUrl };
  }

  const identityFields: IdentityField[] = ['log_nft', 'anchorer', 'consumer'];
  const pinned = identityFields.filter((f) => fields[f].pinned);
  const fetched = identityFields.filter((f) => !fields[f].pinned && fields[f].value !== null);
  const unknown = identityFields.filter((f) => !fields[f].pinned && fields[f].value === null);
  const names = (list: IdentityField[]) => list.map((f) => LABEL[f]).join(', ');
  const sources = [...new Set(pinned.map((f) => fields[f].source))].join(', ');
  const parts: string[] = [];
  if (pinned.length === identityFields.length) parts.push(`pinned (${sources})`);
  else if (pinned.length > 0) parts.push(`${names(pinned)} pinned (${sources})`);
  if (fetched.length === identityFields.length) parts.push(`from the gateway's /.well-known document (not pinned): ${documentUrl}`);
  else if (fetched.length > 0) parts.push(`${names(fetched)} from the gateway's /.well-known document (not pinned)`);
  if (unknown.length > 0) {
    const why = documentError ? `the gateway's /.well-known document could not be read: ${documentError}` : 'the marketplace names none (no chain)';
    parts.push(`${names(unknown)} unknown (${why})`);
  }

  return {
    identity: {
      chainId: fields.chain_id.value as number | null,
      logNft: fields.log_nft.value as string | null,
      anchorer: fields.anchorer.value as string | null,
      consumer: fields.consumer.value as string | null,
      provider: fields.provider.value as string | null,
    },
    keys,
    report: {
      pinned: keysField.pinned && pinned.length === identityFields.length,
      identity: parts.join('; '),
      keys: keysField.pinned ? `pinned (${keysField.source})` : `from the gateway's JWKS (not pinned): ${keysField.source}`,
      fields: { keys: keysField, ...fields },
    },
  };
}
