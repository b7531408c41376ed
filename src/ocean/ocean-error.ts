// The one error type of the Ocean module: a stable code the gateway maps to HTTP, plus a safe detail.

export const OCEAN_ERROR_CODES = [
  'config_invalid',
  'chain_start_failed',
  'deploy_failed',
  'rpc_unavailable',
  'tx_reverted',
  'call_reverted',
  'tx_dropped',
  'tx_timeout',
  'nonce_conflict',
  'publish_failed',
  'order_failed',
  /** The datatoken address holds no contract (the chain was reset): the model must be published again. */
  'model_not_on_chain',
  'pool_closed',
  'invalid_argument',
  /** ddo-js (Ocean's validator) refuses the DDO: nothing was published. */
  'ddo_invalid',
  /** The node's gas estimate is far above what the call was measured to need: nothing was sent. */
  'gas_too_high',
] as const;

export type OceanErrorCode = (typeof OCEAN_ERROR_CODES)[number];

export class OceanError extends Error {
  readonly code: OceanErrorCode;
  /** Transaction this error is about, when one was broadcast. */
  readonly txHash: string | undefined;

  constructor(code: OceanErrorCode, detail: string, options: { cause?: unknown; txHash?: string } = {}) {
    super(detail, { cause: options.cause });
    this.name = 'OceanError';
    this.code = code;
    this.txHash = options.txHash;
  }
}

export function isOceanError(err: unknown, code?: OceanErrorCode): err is OceanError {
  return err instanceof OceanError && (code === undefined || err.code === code);
}
