// `GET /.well-known/posthuman-marketplace.json`: the marketplace's identity for verifiers — the chain,
// the log NFT tree heads are anchored on, the wallet that anchors them, the wallet that orders, and
// the JWKS. A verifier saves it once and pins it (`posthuman verify --marketplace FILE`), so later
// checks need nothing from this gateway's word.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../errors/app-error.js';
import { errorResponses } from '../http/schemas.js';
import { clientRateLimit } from '../rate-limit/client-rate-limit.js';
import { MARKETPLACE_DOCUMENT_PATH, type MarketplaceDocument, MarketplaceDocumentSchema } from '../verifier/index.js';

const marketplaceDocumentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    MARKETPLACE_DOCUMENT_PATH,
    {
      config: { auth: 'none' },
      // The first answer may deploy the log NFT; every later one is served from memory.
      onRequest: clientRateLimit(app, 'public', app.config.publicRateLimitPerMinute),
      schema: {
        operationId: 'getMarketplaceDocument',
        tags: ['receipts'],
        summary: "The marketplace's identity a verifier pins: chain, log NFT, anchoring and consumer addresses, JWKS",
        description:
          'Save this document once and pass it to `posthuman verify --marketplace FILE`: a tree head then counts as ' +
          'anchored only when `anchoring_address` sent the transaction to `log_nft_address` and that NFT emitted the ' +
          'head; an order only when `consumer_address` placed it. Addresses and `chain_id` are null when the gateway ' +
          'runs without a chain (CHAIN=off). `gateway_url` is the address this request reached.',
        response: { 200: MarketplaceDocumentSchema, ...errorResponses([429, 503]) },
      },
    },
    async (request): Promise<MarketplaceDocument> => {
      const base = `${request.protocol}://${request.host}`;
      const ocean = app.ocean;
      let logNft: string | null = null;
      if (ocean && app.logAnchoring) {
        try {
          logNft = await app.logAnchoring.nftAddress();
        } catch (err) {
          throw new AppError('service_unavailable', 'the log NFT could not be read from the chain; try again', { cause: err });
        }
      }
      return {
        gateway_url: base,
        jwks_url: `${base}/.well-known/jwks.json`,
        chain_id: ocean?.chainId ?? null,
        log_nft_address: logNft,
        anchoring_address: ocean?.client.publisherAddress ?? null,
        consumer_address: ocean?.consumerAddress ?? null,
        provider_address: ocean?.client.providerAddress ?? null,
      };
    },
  );
};

export default marketplaceDocumentRoutes;
