// Signs requests to an ocean-node (compute start, status, results, …) the way ocean.js does and
// ocean-node's nonce check verifies them: the consumer's address, the nonce and the command name
// concatenated, keccak256 of its UTF-8, and an eth_sign over that hash as a big-endian number.
import { Signature, getAddress, keccak256, toBeArray, toUtf8Bytes, verifyMessage } from 'ethers';
import type { MessageSigner } from './provider-fee.js';

/** The text ocean-node rebuilds: checksummed consumer address + nonce + command, nothing between. */
export function nodeCommandMessage(consumerAddress: string, nonce: string | number | bigint, command: string): string {
  return `${getAddress(consumerAddress)}${String(nonce)}${command}`;
}

export const nodeCommandHash = (message: string) => keccak256(toUtf8Bytes(message));

/**
 * The bytes that are signed: the hash as a minimal big-endian number (ethers `toBeArray`), as ocean.js
 * signs, so a hash with leading zero bytes signs fewer than 32 bytes. ocean-node accepts this form.
 */
export const nodeCommandSignedBytes = (hash: string) => toBeArray(hash);

export interface SignedNodeCommand {
  consumerAddress: string;
  nonce: string;
  signature: string;
}

export async function signNodeCommand(signer: MessageSigner, nonce: string | number | bigint, command: string): Promise<SignedNodeCommand> {
  const consumerAddress = getAddress(signer.address);
  const hash = nodeCommandHash(nodeCommandMessage(consumerAddress, nonce, command));
  const signature = await signer.signMessage(nodeCommandSignedBytes(hash));
  return { consumerAddress, nonce: String(nonce), signature: Signature.from(signature).serialized };
}

/** Whether `signature` is the consumer's over (nonce, command), by either form ocean-node accepts. */
export function verifyNodeCommand(consumerAddress: string, nonce: string | number | bigint, command: string, signature: string): boolean {
  const hash = nodeCommandHash(nodeCommandMessage(consumerAddress, nonce, command));
  const expected = getAddress(consumerAddress);
  for (const message of [hash, nodeCommandSignedBytes(hash)]) {
    try {
      if (getAddress(verifyMessage(message, signature)) === expected) return true;
    } catch {
      // Not a signature at all: try the other form, then refuse.
    }
  }
  return false;
}
