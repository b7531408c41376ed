// The public model catalog. Weights are never served; only their hash and what they cost.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../errors/app-error.js';
import { errorResponses, MicroCreditsOut } from '../http/schemas.js';
import type { ModelRow } from './model-repository.js';

const ModelSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  name: Type.String(),
  task_kinds: Type.Array(Type.String()),
  weights_sha256: Type.String({ description: 'SHA-256 of the weights file; pin it with model_sha256' }),
  context_length: Type.Integer(),
  architecture: Type.Record(Type.String(), Type.Unknown()),
  pricing: Type.Object({ per_job: MicroCreditsOut, per_1k_tokens: MicroCreditsOut }),
  owner_account_id: Type.Union([Type.String(), Type.Null()]),
  parent_model_id: Type.Union([Type.String(), Type.Null()]),
  ocean: Type.Union(
    [
      Type.Object({
        chain_id: Type.Integer(),
        did: Type.String(),
        nft_address: Type.String({ description: 'Data NFT; its ERC725 data holds the weights sha256' }),
        datatoken_address: Type.String({ description: 'Ordered (startOrder) once per job' }),
        service_id: Type.String(),
        service_timeout: Type.Integer(),
        tx_hashes: Type.Record(Type.String(), Type.String()),
      }),
      Type.Null(),
    ],
    { description: 'The compute-only Ocean asset; null until published on the current chain' },
  ),
  created_at: Type.String({ format: 'date-time' }),
});

function modelView(m: ModelRow) {
  return {
    id: m.id,
    object: 'model' as const,
    name: m.name,
    task_kinds: m.taskKinds,
    weights_sha256: m.weightsSha256,
    context_length: m.contextLength,
    architecture: m.architecture,
    pricing: { per_job: m.pricePerJob, per_1k_tokens: m.pricePer1kTokens },
    owner_account_id: m.ownerAccountId,
    parent_model_id: m.parentModelId,
    ocean:
      m.did && m.nftAddress && m.datatokenAddress && m.chainId !== null
        ? {
            chain_id: m.chainId,
            did: m.did,
            nft_address: m.nftAddress,
            datatoken_address: m.datatokenAddress,
            service_id: m.serviceId ?? '',
            service_timeout: m.serviceTimeout ?? 0,
            tx_hashes: m.publishTxHashes ?? {},
          }
        : null,
    created_at: m.createdAt.toISOString(),
  };
}

const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/models',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'listModels',
        tags: ['models'],
        summary: 'Models available for jobs',
        response: { 200: Type.Object({ data: Type.Array(ModelSchema) }), ...errorResponses([]) },
      },
    },
    async () => ({ data: (await app.modelRepository.list()).map(modelView) }),
  );

  app.get(
    '/v1/models/:id',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getModel',
        tags: ['models'],
        summary: 'One model',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: ModelSchema, ...errorResponses([404]) },
      },
    },
    async (request) => {
      const model = await app.modelRepository.find(request.params.id);
      if (!model) throw notFound('model');
      return modelView(model);
    },
  );
};

export default modelRoutes;
