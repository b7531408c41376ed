// The treasury's outgoing transfers. Unlike ManagedSigner (src/ocean/nonce-manager.ts), signing and
// broadcasting are separate steps: a payout stores its signed transaction before it is broadcast, so a
// crash in between ends in rebroadcasting the very same transaction (same nonce, same hash), which
// can never pay twice. Nonces come from the chain's pending count, raised past any signed transfer
// not yet known to the node.
import { Interface, type JsonRpcProvider, Transaction, Wallet } from 'ethers';

const ERC20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)', 'function balanceOf(address owner) view returns (uint256)']);
/** An ERC-20 transfer costs 35–52k gas; a fixed limit skips an estimate round trip (and a revert is still mined). */
const TRANSFER_GAS = 100_000n;

export interface SignedTransfer {
  raw: string;
  hash: string;
  nonce: number;
}

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export function createTreasury(options: { privateKey: string; provider: JsonRpcProvider; chainId: number }) {
  const wallet = new Wallet(options.privateKey);
  const { provider } = options;
  return {
    address: wallet.address,

    async fees(): Promise<Fees> {
      const [block, tipHex] = await Promise.all([
        provider.getBlock('latest'),
        provider.send('eth_maxPriorityFeePerGas', []).catch(() => '0x3b9aca00'),
      ]);
      const tip = BigInt(tipHex as string);
      // Twice the base fee rides out several full blocks of base-fee growth.
      return { maxFeePerGas: (block?.baseFeePerGas ?? 0n) * 2n + tip, maxPriorityFeePerGas: tip };
    },

    pendingNonce: () => provider.getTransactionCount(wallet.address, 'pending'),
    minedNonce: () => provider.getTransactionCount(wallet.address, 'latest'),

    async tokenBalance(token: string): Promise<bigint> {
      const data = await provider.call({ to: token, data: ERC20.encodeFunctionData('balanceOf', [wallet.address]) });
      return BigInt(data);
    },

    /** Signs `token.transfer(to, amount)` with `nonce`; nothing is sent. */
    async signTransfer(token: string, to: string, amount: bigint, nonce: number, fees: Fees): Promise<SignedTransfer> {
      const raw = await wallet.signTransaction({
        type: 2,
        chainId: options.chainId,
        nonce,
        to: token,
        data: ERC20.encodeFunctionData('transfer', [to, amount]),
        value: 0n,
        gasLimit: TRANSFER_GAS,
        ...fees,
      });
      return { raw, hash: Transaction.from(raw).hash as string, nonce };
    },

    /** Broadcasts a stored transfer; a node that already has it (or mined it) is not an error. */
    async broadcast(raw: string): Promise<void> {
      try {
        await provider.send('eth_sendRawTransaction', [raw]);
      } catch (err) {
        const text = String((err as Error).message ?? err).toLowerCase();
        if (text.includes('already known') || text.includes('known transaction') || text.includes('already imported')) return;
        throw err;
      }
    },
  };
}

export type Treasury = ReturnType<typeof createTreasury>;
