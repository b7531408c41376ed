// Response schemas and mappers for deposits and payouts; token amounts are decimal strings (uint256).
import { Type } from 'typebox';
import { MicroCreditsOut, Nullable, Uuid } from '../http/schemas.js';
import type { DepositRow } from './deposit-ledger.js';
import type { PayoutRow } from './payout-service.js';
import { DEPOSIT_STATUSES, PAYOUT_STATUSES } from './wallet-schema.js';
import type { WalletChain } from './wallet-chain.js';

const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', description: 'EIP-55 address' });
const TxHash = Type.String({ pattern: '^0x[0-9a-f]{64}$' });
const Wei = Type.String({ pattern: '^[0-9]+$', description: 'Token base units (wei for OCEAN), as a decimal string' });
const Time = Type.String({ format: 'date-time' });

export const DepositSchema = Type.Object(
  {
    id: Uuid,
    status: Type.Unsafe<string>({
      type: 'string',
      enum: [...DEPOSIT_STATUSES],
      description: 'pending (waiting for confirmations), credited, unclaimed (no account bound to the sender), dropped (a reorg removed it before it counted), reversed (after)',
    }),
    chain_id: Type.Integer(),
    tx_hash: TxHash,
    log_index: Type.Integer(),
    block_number: Type.Integer(),
    token: Type.Object({ symbol: Type.String(), address: Address }),
    from: Address,
    amount_wei: Wei,
    micro_credits: MicroCreditsOut,
    confirmations: Type.Integer({ minimum: 0, description: 'Blocks on top of it, itself included, as the watcher last saw the chain' }),
    confirmations_required: Type.Integer(),
    account_id: Nullable(Uuid),
    ledger_transaction_id: Nullable(Uuid),
    seen_at: Time,
    settled_at: Nullable(Time),
  },
  { title: 'Deposit', description: 'A token transfer to the treasury, as the gateway has seen it on chain' },
);

export const PayoutSchema = Type.Object(
  {
    id: Uuid,
    status: Type.Unsafe<string>({
      type: 'string',
      enum: [...PAYOUT_STATUSES],
      description: 'queued (earnings held), sent (transfer signed and broadcast), settled (confirmed on chain), released (the transfer failed; the earnings are back)',
    }),
    amount: MicroCreditsOut,
    amount_wei: Wei,
    token: Type.Object({ symbol: Type.String(), address: Address }),
    to: Address,
    chain_id: Type.Integer(),
    tx_hash: Nullable(TxHash),
    error: Nullable(Type.String()),
    hold_transaction_id: Uuid,
    settle_transaction_id: Nullable(Uuid),
    created_at: Time,
    sent_at: Nullable(Time),
    settled_at: Nullable(Time),
  },
  {
    title: 'Payout',
    description: 'A withdrawal of earnings to the account\'s bound address',
    examples: [
      {
        id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        status: 'settled',
        amount: 2_000_000,
        amount_wei: '2000000000000000000',
        token: { symbol: 'OCEAN', address: '0x2473f4F7bf40ed9310F2A5D4b18E6b4C1e2B1B5c' },
        to: '0x32E3c9A1f5b3d27C0b6a8e4F1d9c7B2a5E6f6Ee0',
        chain_id: 8996,
        tx_hash: '0x8e1f…c2d4',
        error: null,
        hold_transaction_id: '9e8d7c6b-5a49-4382-b1c0-dfe1d2c3b4a5',
        settle_transaction_id: '0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f',
        created_at: '2026-11-27T10:51:42.123Z',
        sent_at: '2026-11-27T10:51:43.001Z',
        settled_at: '2026-11-27T10:51:55.420Z',
      },
    ],
  },
);

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function depositView(d: DepositRow, chain: Pick<WalletChain, 'tokens' | 'confirmations'>, head: number | null) {
  const token = chain.tokens.find((t) => t.address === d.token);
  return {
    id: d.id,
    status: d.status,
    chain_id: d.chainId,
    tx_hash: d.txHash,
    log_index: d.logIndex,
    block_number: d.blockNumber,
    token: { symbol: token?.symbol ?? 'unknown', address: d.token },
    from: d.fromAddress,
    amount_wei: d.amountWei.toString(),
    micro_credits: d.microCredits,
    confirmations: head === null ? 0 : Math.max(0, head - d.blockNumber + 1),
    confirmations_required: chain.confirmations,
    account_id: d.accountId,
    ledger_transaction_id: d.ledgerTransactionId,
    seen_at: d.seenAt.toISOString(),
    settled_at: iso(d.settledAt),
  };
}

export function payoutView(p: PayoutRow, chain: Pick<WalletChain, 'ocean'>) {
  return {
    id: p.id,
    status: p.status,
    amount: p.microCredits,
    amount_wei: p.amountWei.toString(),
    token: { symbol: chain.ocean.symbol, address: p.token },
    to: p.address,
    chain_id: p.chainId,
    tx_hash: p.txHash,
    error: p.error,
    hold_transaction_id: p.holdTransactionId,
    settle_transaction_id: p.settleTransactionId,
    created_at: p.createdAt.toISOString(),
    sent_at: iso(p.sentAt),
    settled_at: iso(p.settledAt),
  };
}
