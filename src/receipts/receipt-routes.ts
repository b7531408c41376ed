// Receipts and the transparency log over HTTP: JWKS, a receipt, signed tree heads, proofs, anchoring.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, notFound } from '../errors/app-error.js';
import { errorResponses, KEY_AUTH_ERRORS, NoBody, OPERATOR_AUTH_ERRORS, Uuid } from '../http/schemas.js';
import { keyPrincipal } from '../accounts/principal.js';
import { clientRateLimit } from '../rate-limit/client-rate-limit.js';
import { ConsistencyProof, InclusionProof, JwksSchema, SignedTreeHead } from './log-types.js';
import { decodeReceipt } from './receipt-signer.js';
import { createReceiptRepository } from './receipt-repository.js';

/** Operator actions take no body; an empty one (or `{}`) is fine. */
// Declared, so a stray body is refused rather than ignored: send none, `null` or `{}`.
/** Tree sizes are stored as int8; past 2^53 a JSON number loses precision, so that is the bound. */
const TreeSize = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description, examples: [42] });

export const ReceiptSchema = Type.Object(
  {
    id: Uuid,
    job_id: Uuid,
    log_index: Type.Integer(),
    jws: Type.String({ description: 'Compact JWS (EdDSA) over the canonical JSON receipt; verify with /.well-known/jwks.json' }),
    receipt: Type.Record(Type.String(), Type.Unknown(), { description: 'The decoded payload, for convenience' }),
  },
  {
    title: 'Receipt',
    description: 'A signed job-proof receipt: which weights served which input and output, paid by which order',
    examples: [
      {
        id: '0b8e3f2a-7c55-4f0e-8d6b-5a1e9c3d2f10',
        job_id: '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
        log_index: 41,
        jws: 'eyJhbGciOiJFZERTQSIs…',
        receipt: { receipt_id: '0b8e3f2a-7c55-4f0e-8d6b-5a1e9c3d2f10', job_id: '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11', kind: 'infer', '…': '…' },
      },
    ],
  },
);

const TreeHeadAnswer = Type.Object({
  ...SignedTreeHead.properties,
  ocean: Type.Union([
    Type.Object(
      {
        chain_id: Type.Integer(),
        consumer_address: Type.String({ description: 'The wallet that places every job order' }),
        provider_address: Type.String({ description: "The workers' provider-fee signer" }),
      },
      { description: 'Identities a verifier checks orders against' },
    ),
    Type.Null(),
  ]),
});

export function receiptView(row: { receiptId: string; jobId: string; logIndex: number; jws: string }) {
  return { id: row.receiptId, job_id: row.jobId, log_index: row.logIndex, jws: row.jws, receipt: decodeReceipt(row.jws).payload };
}

const receiptRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The log routes are public: each client address gets PUBLIC_RATE_LIMIT_PER_MINUTE across them.
  const limitClient = clientRateLimit(app, 'public', app.config.publicRateLimitPerMinute);
  const oceanInfo = () =>
    app.ocean
      ? { chain_id: app.ocean.chainId, consumer_address: app.ocean.consumerAddress, provider_address: app.ocean.client.providerAddress }
      : null;

  app.get(
    '/.well-known/jwks.json',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getJwks',
        tags: ['receipts'],
        summary: 'Every receipt-signing public key, current and retired',
        description: 'Receipts and tree heads are JWS signed by one of these keys (by `kid`); rotated keys stay listed so old receipts still verify.',
        response: { 200: JwksSchema, ...errorResponses([]) },
      },
    },
    async () => app.keyStore.jwks(),
  );

  app.get(
    '/v1/receipts/:id',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'getReceipt',
        tags: ['receipts'],
        summary: "A receipt of one of this account's jobs",
        description: 'The receipt JWS with its decoded payload. Another account\'s receipt is a 404. Jobs also carry theirs (`receipt.jws`).',
        security: [{ apiKey: [] }],
        params: Type.Object({ id: Type.String({ format: 'uuid', description: 'The receipt id', examples: ['0b8e3f2a-7c55-4f0e-8d6b-5a1e9c3d2f10'] }) }),
        response: { 200: ReceiptSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      const row = await createReceiptRepository(app.db).findForAccount(request.params.id, accountId);
      if (!row) throw notFound('receipt');
      return receiptView(row);
    },
  );

  app.get(
    '/v1/log/tree-head',
    {
      config: { auth: 'none' },
      onRequest: limitClient,
      schema: {
        operationId: 'getTreeHead',
        tags: ['receipts'],
        summary: 'The signed head of the transparency log, and its latest on-chain anchor',
        description:
          'The current head (signed by the gateway key). `anchor` is set when this exact head was anchored; ' +
          '`latest_anchored` is the newest head whose root is on chain (ERC725 data of the log NFT).',
        response: {
          200: Type.Object(
            { ...TreeHeadAnswer.properties, latest_anchored: Type.Union([SignedTreeHead, Type.Null()]) },
            {
              title: 'LogState',
              description: 'The current signed tree head, the identities orders are checked against, and the newest anchored head',
              examples: [
                {
                  tree_size: 42,
                  root_hash: '2f9c1e0a7b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6',
                  timestamp: '2026-11-27T10:52:00.000Z',
                  signature: 'eyJhbGciOiJFZERTQSIs…',
                  anchor: null,
                  ocean: { chain_id: 8996, consumer_address: '0x32E3…6Ee0', provider_address: '0x5A1c…09F2' },
                  latest_anchored: null,
                },
              ],
            },
          ),
          ...errorResponses([429]),
        },
      },
    },
    async () => {
      const head = await app.transparencyLog.treeHead();
      const anchored = (await app.transparencyLog.latestAnchoredHead()) ?? null;
      return { ...head, ocean: oceanInfo(), latest_anchored: anchored };
    },
  );

  app.get(
    '/v1/log/proof/inclusion',
    {
      config: { auth: 'none' },
      onRequest: limitClient,
      schema: {
        operationId: 'getInclusionProof',
        tags: ['receipts'],
        summary: "A receipt's inclusion proof (RFC 6962) against a signed tree head",
        description: 'The audit path from the receipt\'s leaf to the root of the current head, or of `tree_size` (an anchored head, say).',
        querystring: Type.Object({
          receipt: Type.String({ format: 'uuid', description: 'The receipt id', examples: ['0b8e3f2a-7c55-4f0e-8d6b-5a1e9c3d2f10'] }),
          tree_size: Type.Optional(TreeSize('Prove against this (e.g. an anchored) head')),
        }),
        response: { 200: InclusionProof, ...errorResponses([404, 429]) },
      },
    },
    async (request) => app.transparencyLog.inclusionProof(request.query.receipt, request.query.tree_size),
  );

  app.get(
    '/v1/log/proof/consistency',
    {
      config: { auth: 'none' },
      onRequest: limitClient,
      schema: {
        operationId: 'getConsistencyProof',
        tags: ['receipts'],
        summary: 'A consistency proof (RFC 6962) between two tree sizes: the log only ever appended',
        description: 'Proves the log at `to` extends the log at `from`: a verifier holding an older head checks that nothing was rewritten.',
        querystring: Type.Object({ from: TreeSize('The older tree size'), to: TreeSize('The newer tree size (at most the current one)') }),
        response: { 200: ConsistencyProof, ...errorResponses([404, 429]) },
      },
    },
    async (request) => app.transparencyLog.consistencyProof(request.query.from, request.query.to),
  );

  app.post(
    '/v1/admin/keys/rotate',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'rotateGatewayKey',
        tags: ['admin'],
        summary: 'Rotate the gateway signing key',
        description:
          'Generates a new Ed25519 key with a new kid for receipts and tree heads signed from now on, by every gateway ' +
          'replica (each reads the active key before it issues). Every earlier key stays in /.well-known/jwks.json, so receipts ' +
          'signed before stay verifiable. One rotation runs at a time: another one meanwhile answers 409 ' +
          '`rotation_in_progress`.',
        security: [{ operatorToken: [] }],
        body: NoBody,
        response: {
          200: Type.Object(
            { kid: Type.String({ description: 'The new signing key' }), jwks: JwksSchema },
            { title: 'KeyRotation', examples: [{ kid: 'gw-2026-11-28-41c07a2e', jwks: { keys: [] } }] },
          ),
          ...errorResponses([...OPERATOR_AUTH_ERRORS, 409, 413, 415]) },
      },
    },
    async () => {
      const kid = await app.rotateGatewayKey();
      return { kid, jwks: await app.keyStore.jwks() };
    },
  );

  app.post(
    '/v1/admin/log/anchor',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'anchorTreeHead',
        tags: ['admin'],
        summary: 'Anchor the current tree head on chain now',
        description: 'Writes the current head to the log NFT\'s ERC725 data now instead of at the next ANCHOR_INTERVAL_MS; null when the log is empty. 503 without a chain.',
        security: [{ operatorToken: [] }],
        body: NoBody,
        response: { 200: Type.Union([SignedTreeHead, Type.Null()]), ...errorResponses([...OPERATOR_AUTH_ERRORS, 413, 415, 503]) },
      },
    },
    async () => {
      if (!app.logAnchoring) throw new AppError('service_unavailable', 'no chain is configured (CHAIN=off)');
      return app.logAnchoring.anchorNow();
    },
  );
};

export default receiptRoutes;
