// Publishes the OpenAPI 3.1 document built from the route schemas, and Swagger UI at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemSchema } from '../http/schemas.js';
import { shapeDocument } from '../http/openapi-shape.js';

export const API_VERSION = '0.1.0';

export default fp(
  async function openapi(app: FastifyInstance) {
    app.addSchema(ProblemSchema);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Posthuman Gateway',
          version: API_VERSION,
          description:
            'Compute on transformer models published as Ocean Protocol compute-only assets. ' +
            'Amounts are integer micro-credits (1 credit = 1,000,000). Errors are application/problem+json.',
        },
        servers: [
          app.config.publicBaseUrl
            ? { url: app.config.publicBaseUrl, description: 'This gateway (PUBLIC_BASE_URL)' }
            : { url: 'http://127.0.0.1:8080', description: '`npm start` on this machine (set PUBLIC_BASE_URL to name a deployment)' },
        ],
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'ph_<prefix>_<secret>',
              description: 'An account API key: `Authorization: Bearer ph_…`',
            },
            walletSession: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'A wallet session token from POST /v1/auth/siwe/verify (Sign-In with Ethereum): `Authorization: Bearer <token>`',
            },
            operatorToken: {
              type: 'http',
              scheme: 'bearer',
              description: 'The operator token (POSTHUMAN_OPERATOR_TOKEN) for /v1/admin routes',
            },
          },
        },
        tags: [
          { name: 'admin', description: 'Operator: accounts, keys and credit grants' },
          { name: 'account', description: 'The calling account: balance, ledger, keys' },
          { name: 'models', description: 'The model catalog' },
          { name: 'jobs', description: 'Inference and evaluation jobs' },
          { name: 'receipts', description: 'Signed job receipts, signing keys, the transparency log' },
          { name: 'operations', description: 'Health, readiness, metrics' },
          { name: 'wallet', description: 'Sign-In with Ethereum, credits bought on chain, payouts of earnings' },
          { name: 'webhooks', description: 'Signed job events (Standard Webhooks) sent to your endpoints: deliveries, attempts, replay, secret rotation' },
          { name: 'openai', description: 'OpenAI-compatible routes (/openai/v1): the official SDKs work with this base URL and an API key' },
        ],
      },
      // Named components, defaults not required, security on every operation (src/http/openapi-shape.ts).
      transformObject: (documents) => shapeDocument((documents as { openapiObject: Record<string, unknown> }).openapiObject),
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'none' } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
