// Every table of the service, gathered for drizzle and drizzle-kit.
export * from '../accounts/accounts-schema.js';
export * from '../audits/audits-schema.js';
export * from '../credits/ledger-schema.js';
export * from '../datasets/datasets-schema.js';
export * from '../http/idempotency-schema.js';
export * from '../jobs/jobs-schema.js';
export * from '../models/models-schema.js';
export * from '../ocean/escrow-schema.js';
export * from '../ocean/order-pool-schema.js';
export * from '../receipts/receipts-schema.js';
export * from '../wallet/wallet-schema.js';
export * from '../webhooks/webhooks-schema.js';
