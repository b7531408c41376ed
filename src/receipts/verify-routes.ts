// `POST /v1/receipts/verify`: the gateway runs the verifier module (the same checks as `posthuman
// verify`) against its own keys, log, chain RPC and identity. A convenience: a verifier who trusts
// no one runs the CLI (or the module in a browser) with the marketplace's identity pinned.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BODY_ERRORS, errorResponses, KEY_AUTH_ERRORS } from '../http/schemas.js';
import { clientRateLimit } from '../rate-limit/client-rate-limit.js';
import { checkReceipt, RECEIPT_CHECKS } from '../verifier/index.js';

export const ReceiptVerificationSchema = Type.Object(
  {
    ok: Type.Boolean({ description: 'True only when every check passed' }),
    checks: Type.Array(
      Type.Object(
        {
          check: Type.Enum(RECEIPT_CHECKS),
          ok: Type.Boolean(),
          detail: Type.String({ description: 'What was found, in words' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    title: 'ReceiptVerification',
    examples: [{ ok: true, checks: [{ check: 'signature', ok: true, detail: 'signed by gw-2026-11-27-9ae989f6' }] }],
  },
);

const verifyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/receipts/verify',
    {
      // Each call costs chain reads and an O(log size) proof: keep it behind an API key (and its rate limit).
      config: { auth: 'key' },
      // Keys without a per-key limit are still held to the per-address limit of the public log.
      onRequest: clientRateLimit(app, 'public', app.config.publicRateLimitPerMinute),
      schema: {
        operationId: 'verifyReceipt',
        tags: ['receipts'],
        summary: "Check a receipt: signature, attestation, weights and order on chain, inclusion under an anchored head",
        description:
          'Runs every check of `posthuman verify` on the gateway: the signature and the worker attestation against ' +
          "this gateway's JWKS, the weights sha256, DID and Ocean order against its chain, and the receipt's " +
          'inclusion under the newest tree head anchored on chain by its anchoring address on its log NFT ' +
          '(/.well-known/posthuman-marketplace.json). A failed check is a 200 with `ok: false`; ' +
          'checks that need a chain fail when the gateway runs without one.',
        body: Type.Object(
          { receipt: Type.String({ minLength: 1, maxLength: 65_536, description: 'The receipt as a compact JWS', examples: ['eyJhbGciOiJFZERTQSIs…'] }) },
          { additionalProperties: false, title: 'VerifyReceiptRequest', examples: [{ receipt: 'eyJhbGciOiJFZERTQSIs…' }] },
        ),
        security: [{ apiKey: [] }],
        response: { 200: ReceiptVerificationSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS]) },
      },
    },
    async (request) => {
      const anchoredHead = (await app.transparencyLog.latestAnchoredHead()) ?? null;
      const ocean = app.ocean;
      const provider = ocean?.client.provider;
      // The log NFT is read back from the last anchor; with none there is nothing to check it for.
      const logNft = anchoredHead && app.logAnchoring ? await app.logAnchoring.nftAddress() : null;
      const report = await checkReceipt({
        jws: request.body.receipt,
        jwks: await app.keyStore.jwks(),
        rpc: provider ? (method, params) => provider.send(method, params) : null,
        anchoredHead,
        fetchInclusion: (receiptId, treeSize) => app.transparencyLog.inclusionProof(receiptId, treeSize),
        identity: ocean
          ? { chainId: ocean.chainId, consumer: ocean.consumerAddress, provider: ocean.client.providerAddress, anchorer: ocean.client.publisherAddress, logNft }
          : {},
      });
      return { ok: report.ok, checks: report.checks };
    },
  );
};

export default verifyRoutes;
