// The public model catalog. Weights are never served; only their hash and what they cost.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { notFound } from '../errors/app-error.js';
import { BODY_ERRORS, errorResponses, KEY_AUTH_ERRORS, MicroCreditsOut, OPERATOR_AUTH_ERRORS } from '../http/schemas.js';
import { keyPrincipal } from '../accounts/principal.js';
import { publishModelFolder, unpackModelArchive } from './model-publishing.js';
import type { ModelRow } from './model-repository.js';
import { modelAncestors, modelLineages } from './model-lineage.js';
import { type ModelUsage, modelUsage, modelUsages, NO_USAGE } from './model-usage.js';
import { MAX_ROYALTY_BPS } from '../credits/revenue-split.js';

const MODEL_EXAMPLE = {
  id: 'tiny-gpt2',
  object: 'model',
  name: 'tiny-gpt2',
  task_kinds: ['infer', 'evaluate'],
  weights_sha256: '1280b5d7161a7aa77b2b31e8496b0fff32f6765f1183dc3dc373fa34f421d21a',
  context_length: 128,
  architecture: { model_type: 'gpt2', n_layer: 2, n_head: 4, n_embd: 64, vocab_size: 50257 },
  pricing: { per_job: 1000, per_1k_tokens: 2000 },
  owner_account_id: null,
  owned_by_you: false,
  parent_model_id: null,
  royalty_bps: 0,
  lineage: [],
  ocean: {
    chain_id: 8996,
    did: 'did:op:e0d4f0d4…',
    nft_address: '0x9bd0…88b5',
    datatoken_address: '0x2f4e…1c07',
    service_id: 'compute',
    service_timeout: 86400,
    price_ocean: null,
    tx_hashes: { create: '0x7a1c…e2f0' },
  },
  created_at: '2026-11-27T10:51:42.123Z',
  usage: { jobs: 1284, tokens: 96_310, last_30_days: { jobs: 212, tokens: 15_877 } },
};

const UsageCounts = {
  jobs: Type.Integer({ minimum: 0, description: 'Succeeded jobs (inference, evaluation, fine-tuning) run on this model' }),
  tokens: Type.Integer({ minimum: 0, description: 'Input + output tokens those jobs processed' }),
};

const ModelSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  name: Type.String(),
  task_kinds: Type.Array(Type.String()),
  weights_sha256: Type.String({ description: 'SHA-256 of the weights file; pin it with model_sha256' }),
  context_length: Type.Integer(),
  architecture: Type.Record(Type.String(), Type.Unknown()),
  pricing: Type.Object({ per_job: MicroCreditsOut, per_1k_tokens: MicroCreditsOut }),
  owner_account_id: Type.Union([Type.String(), Type.Null()], {
    description: "The owner's account id, shown only to the owner (call the catalog with your API key); null otherwise",
  }),
  owned_by_you: Type.Optional(Type.Boolean({ description: 'Catalog routes: whether the calling API key belongs to the owner' })),
  parent_model_id: Type.Union([Type.String(), Type.Null()]),
  royalty_bps: Type.Integer({
    minimum: 0,
    maximum: MAX_ROYALTY_BPS,
    description: "Lineage royalty: basis points of the owners' part of every derived model's job revenue paid to this model's owner",
  }),
  lineage: Type.Array(Type.String(), {
    description: 'The models this one was fine-tuned from, nearest first (parent, grandparent, …; at most 8)',
  }),
  ocean: Type.Union(
    [
      Type.Object({
        chain_id: Type.Integer(),
        did: Type.String(),
        nft_address: Type.String({ description: 'Data NFT; its ERC725 data holds the weights sha256' }),
        datatoken_address: Type.String({ description: 'Ordered (startOrder) once per job' }),
        service_id: Type.String(),
        service_timeout: Type.Integer(),
        price_ocean: Type.Union([Type.String(), Type.Null()], { description: 'OCEAN per order (fixed rate); null = free' }),
        tx_hashes: Type.Record(Type.String(), Type.String()),
      }),
      Type.Null(),
    ],
    { description: 'The compute-only Ocean asset; null until published on the current chain' },
  ),
  created_at: Type.String({ format: 'date-time' }),
  usage: Type.Optional(
    Type.Object(
      {
        ...UsageCounts,
        last_30_days: Type.Object(UsageCounts, { description: 'The same counts for jobs finished in the last 30 days' }),
      },
      {
        description:
          'Catalog routes: how much the model is used, counted from succeeded jobs over all time; totals only, never who ran them',
        examples: [{ jobs: 1284, tokens: 96_310, last_30_days: { jobs: 212, tokens: 15_877 } }],
      },
    ),
  ),
}, {
  title: 'Model',
  description: 'A model: its weights hash, context, prices, owner, lineage and Ocean asset (never its weights)',
  examples: [MODEL_EXAMPLE],
});

function modelView(m: ModelRow, lineage: string[]) {
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
    royalty_bps: m.royaltyBps,
    lineage,
    ocean:
      m.did && m.nftAddress && m.datatokenAddress && m.chainId !== null
        ? {
            chain_id: m.chainId,
            did: m.did,
            nft_address: m.nftAddress,
            datatoken_address: m.datatokenAddress,
            service_id: m.serviceId ?? '',
            service_timeout: m.serviceTimeout ?? 0,
            price_ocean: m.oceanPrice,
            tx_hashes: m.publishTxHashes ?? {},
          }
        : null,
    created_at: m.createdAt.toISOString(),
  };
}

/** The public catalog never shows another account's id: only the owner sees its own. */
function catalogView(m: ModelRow, lineage: string[], usage: ModelUsage, request: FastifyRequest) {
  const viewer = request.principal?.kind === 'key' ? request.principal.accountId : null;
  const owned = viewer !== null && m.ownerAccountId === viewer;
  return { ...modelView(m, lineage), owner_account_id: owned ? m.ownerAccountId : null, owned_by_you: owned, usage };
}

const ancestorIds = (ancestors: { modelId: string }[] = []) => ancestors.map((a) => a.modelId);

/** Anyone may read the catalog; a caller who sends an API key also learns which models are theirs. */
const CATALOG_ACCESS = {
  config: { auth: 'key-optional' as const },
  security: [{}, { apiKey: [] }] as Record<string, string[]>[],
};

const PublishQuery = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'The new model id (slug)', examples: ['my-model'] }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A name for people (default: the id)', examples: ['My model'] })),
    price_per_job: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits per job', examples: [1000] }),
    price_per_1k_tokens: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits per 1,000 tokens', examples: [2000] }),
    royalty_bps: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_ROYALTY_BPS,
        description:
          "Lineage royalty (default 0): basis points of the owners' part of the revenue of every model later " +
          'fine-tuned from this one (directly or further down) paid to you; ancestors together get at most half',
        examples: [500],
      }),
    ),
    ocean_price: Type.Optional(
      Type.String({
        pattern: '^(0\\.[0-9]{0,17}[1-9]|[1-9][0-9]{0,17}(\\.[0-9]{1,18})?)$',
        description: 'Sell each order datatoken for this many OCEAN on a fixed-rate exchange (default: free, via a dispenser)',
        examples: ['0.5'],
      }),
    ),
  },
  { additionalProperties: false },
);

const ARCHIVE_TYPES = ['application/gzip', 'application/x-gzip', 'application/x-tar+gzip'];

const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const uploadLimit = app.config.modelUploadLimitBytes;
  // Only these routes take archives; elsewhere a gzip body stays a 415.
  app.addContentTypeParser(ARCHIVE_TYPES, { parseAs: 'buffer', bodyLimit: uploadLimit }, (_req, body, done) => done(null, body));
  const publishDeps = () => ({ db: app.db, dataDir: app.config.dataDir, ocean: app.ocean });
  const lineageIds = async (id: string) => ancestorIds(await modelAncestors(app.db, id));

  app.post(
    '/v1/models',
    {
      bodyLimit: uploadLimit,
      config: { auth: 'key', scope: 'publish' },
      schema: {
        operationId: 'publishModel',
        tags: ['models'],
        summary: 'Publish a model: upload its folder as a .tar.gz',
        description:
          'The archive holds a GPT-2-family ONNX model folder (config.json and onnx/model.onnx, as an Optimum export ' +
          'or `npm run model:tiny` writes), as its contents or inside one top-level folder. Only the files the runtime ' +
          'reads are kept (config.json, generation_config.json, one decoder); tokenizer files are accepted and dropped, ' +
          'any other file is refused (400 `archive_unexpected_file`). At most 32 entries and 2 GiB unpacked (config ' +
          'files 1 MiB, tokenizer files 32 MiB); links, devices, absolute and `..` paths are refused (400 `archive_*`). ' +
          'The ONNX model must be self-contained: a tensor stored as external data anywhere (initializers, node ' +
          'attributes, subgraphs, sparse initializers) or a graph beyond the node/opset/tensor limits is refused (400 ' +
          '`model_rejected`); the session is built in a separate process with memory and CPU limits. An id is taken ' +
          'once: a second upload of it, concurrent or later, is 409 `model_exists` and never replaces the first. ' +
          'The weights are validated and stored by sha256, registered with the ' +
          "caller's account as owner (each job's price less the marketplace fee, 25% by default, goes to it; " +
          '`royalty_bps` sets what models later fine-tuned from it pay it), and published on chain as an Ocean ' +
          'compute-only asset: data NFT + datatoken + DDO whose compute service trusts only the marketplace runtime, ' +
          'with the weights sha256 in the metadata and as ERC725 data on the NFT. Weights are never served back.',
        security: [{ apiKey: [] }],
        consumes: ARCHIVE_TYPES,
        querystring: PublishQuery,
        body: Type.Unsafe<Buffer>({ description: 'The model folder as a .tar.gz archive' }),
        response: { 201: ModelSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS, 409, 503]) },
      },
    },
    async (request, reply) => {
      const { accountId } = keyPrincipal(request);
      const q = request.query;
      // Refusals remove the upload folder themselves; after this, finally does (before answering).
      const archive = await unpackModelArchive(request.body, app.config.dataDir);
      let model: ModelRow;
      try {
        model = await publishModelFolder(publishDeps(), archive.dir, {
          id: q.id,
          name: q.name,
          pricePerJob: BigInt(q.price_per_job),
          pricePer1kTokens: BigInt(q.price_per_1k_tokens),
          ownerAccountId: accountId,
          royaltyBps: q.royalty_bps,
          oceanPrice: q.ocean_price,
        });
      } finally {
        await archive.cleanup();
      }
      return reply.code(201).send(modelView(model, await lineageIds(model.id)));
    },
  );

  app.post(
    '/v1/admin/models',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'publishModelFromPath',
        tags: ['admin'],
        summary: 'Publish a model folder that is on the gateway machine',
        description:
          'As POST /v1/models, for a folder the operator already has on the gateway (no upload): validated, stored by ' +
          'sha256, registered (owned by `owner_account_id`, or by the marketplace) and published on chain.',
        security: [{ operatorToken: [] }],
        body: Type.Object(
          {
            ...PublishQuery.properties,
            path: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of the model folder', examples: ['/srv/models/gpt2'] }),
            owner_account_id: Type.Optional(
              Type.String({ format: 'uuid', description: 'The owning account (default: none, the marketplace)', examples: ['3c9a7e21-0b5d-4f8e-a6c4-1d2e3f4a5b6c'] }),
            ),
          },
          {
            additionalProperties: false,
            title: 'PublishModelFromPathRequest',
            examples: [{ id: 'gpt2', path: '/srv/models/gpt2', price_per_job: 2000, price_per_1k_tokens: 10000 }],
          },
        ),
        response: { 201: ModelSchema, ...errorResponses([...OPERATOR_AUTH_ERRORS, ...BODY_ERRORS, 409, 503]) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const model = await publishModelFolder(publishDeps(), b.path, {
        id: b.id,
        name: b.name,
        pricePerJob: BigInt(b.price_per_job),
        pricePer1kTokens: BigInt(b.price_per_1k_tokens),
        ownerAccountId: b.owner_account_id ?? null,
        royaltyBps: b.royalty_bps,
        oceanPrice: b.ocean_price,
      });
      return reply.code(201).send(modelView(model, await lineageIds(model.id)));
    },
  );

  app.get(
    '/v1/models',
    {
      config: CATALOG_ACCESS.config,
      schema: {
        operationId: 'listModels',
        tags: ['models'],
        summary: 'Models available for jobs',
        description:
          'The public catalog: every model with its weights hash, prices, lineage and Ocean asset. Anyone may read it; ' +
          'with an API key, your own models also show your account id and `owned_by_you: true`.',
        security: CATALOG_ACCESS.security,
        response: { 200: Type.Object({ data: Type.Array(ModelSchema) }, { title: 'ModelList' }), ...errorResponses([401, 429]) },
      },
    },
    async (request) => {
      const models = await app.modelRepository.list();
      const ids = models.map((m) => m.id);
      const [lineages, usages] = await Promise.all([modelLineages(app.db, ids), modelUsages(app.db, ids)]);
      return {
        data: models.map((m) => catalogView(m, ancestorIds(lineages.get(m.id)), usages.get(m.id) ?? NO_USAGE, request)),
      };
    },
  );

  app.get(
    '/v1/models/:id',
    {
      config: CATALOG_ACCESS.config,
      schema: {
        operationId: 'getModel',
        tags: ['models'],
        summary: 'One model',
        description: 'A model of the catalog by id (as GET /v1/models shows it).',
        security: CATALOG_ACCESS.security,
        params: Type.Object({ id: Type.String({ maxLength: 64, description: 'The model id', examples: ['tiny-gpt2'] }) }),
        response: { 200: ModelSchema, ...errorResponses([401, 404, 429]) },
      },
    },
    async (request) => {
      const model = await app.modelRepository.find(request.params.id);
      if (!model) throw notFound('model');
      const [lineage, usage] = await Promise.all([lineageIds(model.id), modelUsage(app.db, model.id)]);
      return catalogView(model, lineage, usage, request);
    },
  );
};

export default modelRoutes;
