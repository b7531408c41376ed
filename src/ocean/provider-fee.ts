// Provider fees signed the way ocean-node signs them, so the datatoken contract accepts them on
// startOrder/reuseOrder, and anyone can recover which provider signed a fee seen on chain.
import {
  type BytesLike,
  Signature,
  getAddress,
  getBytes,
  hexlify,
  solidityPackedKeccak256,
  toUtf8Bytes,
  toUtf8String,
  verifyMessage,
} from 'ethers';

/** The struct `startOrder`/`reuseOrder` take, field names as in the ABI. */
export interface ProviderFee {
  providerFeeAddress: string;
  providerFeeToken: string;
  providerFeeAmount: bigint;
  /** 0x hex of the utf8 JSON `{ dt, id }`. */
  providerData: string;
  v: number;
  r: string;
  s: string;
  /** A duration in seconds counted from the order's block, as ocean-node reads it; 0 = unbounded. */
  validUntil: bigint;
}

export interface ProviderFeeRequest {
  datatokenAddress: string;
  serviceId: string;
  feeToken: string;
  /** In the fee token's smallest unit; 0 is allowed (no transfer happens). */
  amount?: bigint;
  validForSeconds: number;
}

/** What a wallet needs to sign a fee: ethers Wallet fits. */
export interface MessageSigner {
  address: string;
  signMessage(message: Uint8Array): Promise<string>;
}

export function encodeProviderData(datatokenAddress: string, serviceId: string): string {
  return hexlify(toUtf8Bytes(JSON.stringify({ dt: getAddress(datatokenAddress), id: serviceId })));
}

/** The `{ dt, id }` a provider fee carries, or undefined when it is not ours to read. */
export function decodeProviderData(providerData: BytesLike): { dt: string; id: string } | undefined {
  try {
    const parsed = JSON.parse(toUtf8String(providerData));
    return typeof parsed?.dt === 'string' && typeof parsed?.id === 'string' ? { dt: parsed.dt, id: parsed.id } : undefined;
  } catch {
    return undefined;
  }
}

/** The hash the contract rebuilds with abi.encodePacked before ecrecover. */
export function providerFeeHash(fee: Omit<ProviderFee, 'v' | 'r' | 's'>): string {
  return solidityPackedKeccak256(
    ['bytes', 'address', 'address', 'uint256', 'uint256'],
    [fee.providerData, fee.providerFeeAddress, fee.providerFeeToken, fee.providerFeeAmount, fee.validUntil],
  );
}

export async function signProviderFee(signer: MessageSigner, request: ProviderFeeRequest): Promise<ProviderFee> {
  if (!Number.isInteger(request.validForSeconds) || request.validForSeconds < 0) {
    throw new RangeError('validForSeconds must be a whole number of seconds');
  }
  const unsigned = {
    providerFeeAddress: getAddress(signer.address),
    providerFeeToken: getAddress(request.feeToken),
    providerFeeAmount: request.amount ?? 0n,
    providerData: encodeProviderData(request.datatokenAddress, request.serviceId),
    validUntil: BigInt(request.validForSeconds),
  };
  // eth_sign over the 32-byte hash: the contract prefixes "\x19Ethereum Signed Message:\n32".
  const signature = Signature.from(await signer.signMessage(getBytes(providerFeeHash(unsigned))));
  return { ...unsigned, v: signature.v, r: signature.r, s: signature.s };
}

/** The address that signed `fee` (what the contract's ecrecover returns). */
export function recoverProviderFeeSigner(fee: ProviderFee): string {
  const signature = Signature.from({ v: fee.v, r: fee.r, s: fee.s });
  return verifyMessage(getBytes(providerFeeHash(fee)), signature);
}
