// A compute service's `files`: Ocean's files object, ECIES-encrypted to the provider's key and hex
// encoded exactly as ocean-node's encrypt command answers, so a node holding that key decrypts it at
// compute initialize (an empty string fails there). It names the content (a model's weights, a
// dataset's bytes) by its sha256 in the marketplace's store: nothing in it lets anyone fetch it.
import { decrypt, encrypt } from 'eciesjs';
import { SigningKey, getAddress, getBytes, hexlify, toUtf8Bytes, toUtf8String } from 'ethers';
import { type AssetKind, type ContentInput, contentOf, normalizeSha256 } from './ddo-builder.js';

export interface ServiceFilesObject {
  datatokenAddress: string;
  nftAddress: string;
  files: Array<{ type: 'url'; url: string; method: 'GET' }>;
}

const STORE_FOLDER = { model: 'weights', dataset: 'datasets' } as const satisfies Record<AssetKind, string>;

/** Where the content is, for the provider only: content-addressed in its own store, never served. */
export const contentLocator = (kind: AssetKind, sha256: string) => `posthuman://${STORE_FOLDER[kind]}/sha256/${normalizeSha256(sha256)}`;
export const weightsLocator = (weightsSha256: string) => contentLocator('model', weightsSha256);

export function serviceFilesObject(input: { nftAddress: string; datatokenAddress: string } & ContentInput): ServiceFilesObject {
  const content = contentOf(input);
  return {
    datatokenAddress: getAddress(input.datatokenAddress),
    nftAddress: getAddress(input.nftAddress),
    files: [{ type: 'url', url: contentLocator(content.kind, content.sha256), method: 'GET' }],
  };
}

/** The uncompressed secp256k1 public key (0x04…) of a provider private key: what files are encrypted to. */
export const providerPublicKey = (privateKey: string) => SigningKey.computePublicKey(privateKey, false);

/** `0x` + hex of eciesjs.encrypt(provider public key, utf8 JSON): ocean-node's ECIES format. */
export function encryptServiceFiles(files: ServiceFilesObject, publicKey: string): string {
  const key = getBytes(SigningKey.computePublicKey(publicKey, false));
  return hexlify(encrypt(key, toUtf8Bytes(JSON.stringify(files))));
}

/** Reads back encrypted files with the provider's private key (what ocean-node does at initialize). */
export function decryptServiceFiles(files: string, privateKey: string): ServiceFilesObject {
  const data = getBytes(files.startsWith('0x') ? files : `0x${files}`);
  return JSON.parse(toUtf8String(decrypt(getBytes(privateKey), data))) as ServiceFilesObject;
}
