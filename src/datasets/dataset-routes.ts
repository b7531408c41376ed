// Dataset routes: upload, list, read metadata, delete, publish on chain. No route ever returns a
// dataset's content: the schemas below have no field that could hold it, and errors name lines,
// never their text.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { keyPrincipal } from '../accounts/principal.js';
import { AppError } from '../errors/app-error.js';
import { BODY_ERRORS, errorResponses, IdParams, KEY_AUTH_ERRORS, MicroCreditsOut, NoBody, Nullable, Page, PageQuery, Uuid } from '../http/schemas.js';
import type { DatasetRow } from './dataset-repository.js';
import { deleteDataset, getDataset, listDatasets, publishDataset, uploadDataset } from './dataset-service.js';
import type { DatasetFormat } from './datasets-schema.js';

const DATASET_EXAMPLE = {
  id: '5d6e7f80-9a1b-4c2d-8e3f-405162738495',
  object: 'dataset',
  name: 'support tickets',
  description: 'Answered tickets, 2025',
  format: 'jsonl',
  sha256: '9f2b4c…e1a0',
  bytes: 48213,
  documents: 212,
  tokens: 10311,
  price_per_job: 50000,
  listed: true,
  owner_account_id: '3c9a7e21-0b5d-4f8e-a6c4-1d2e3f4a5b6c',
  owned_by_you: true,
  ocean: null,
  created_at: '2026-11-27T10:51:42.123Z',
  deleted_at: null,
};
const PUBLISHED_EXAMPLE = {
  chain_id: 8996,
  did: 'did:op:5b1c…97e0',
  nft_address: '0x7a2D…3f41',
  datatoken_address: '0x1c9E…b2d6',
  content_sha256: '9f2b4c…e1a0',
  tx_hashes: { create: '0x4e0b…9a12', setMetadata: '0x88c1…07fd', setDatasetHash: '0x1f6a…c3b8' },
};

const DatasetSchema = Type.Object({
  id: Uuid,
  object: Type.Literal('dataset'),
  name: Type.String(),
  description: Nullable(Type.String()),
  format: Type.Unsafe<DatasetFormat>({ type: 'string', enum: ['text', 'jsonl'] }),
  sha256: Type.String({ description: 'SHA-256 of the stored bytes, exactly as uploaded (fine-tune receipts name it)' }),
  bytes: Type.Integer(),
  documents: Type.Integer({ description: 'Documents the trainer reads: JSONL lines, or the pieces of a text between `<|endoftext|>` lines' }),
  tokens: Nullable(Type.Integer({ description: 'GPT-2 tokens over all documents; null when the text was not counted (a stretch of over 8,000 characters with no word boundary)' })),
  price_per_job: MicroCreditsOut,
  listed: Type.Boolean({ description: 'Listed: anyone may train on it for price_per_job; unlisted: only its owner' }),
  owner_account_id: Nullable(Type.String({ description: "The owner's account id, shown only to the owner; null otherwise" })),
  owned_by_you: Type.Boolean(),
  ocean: Nullable(
    Type.Object({
      chain_id: Type.Integer(),
      did: Type.String({ description: 'The DID of the compute-only asset (did:op:…)' }),
      nft_address: Type.String({ description: 'Data NFT; its ERC725 data holds content_sha256 under keccak256("posthuman.dataset_sha256")' }),
      datatoken_address: Type.String({ description: 'The compute service\'s datatoken (free: fine-tunes are paid in the ledger)' }),
      content_sha256: Type.String({ description: 'The sha256 registered on chain: the dataset\'s `sha256`' }),
      tx_hashes: Type.Record(Type.String(), Type.String(), { description: 'create, setMetadata, setDatasetHash' }),
    }, { description: 'The compute-only Ocean asset (POST /v1/datasets/{id}/publish); null until published on the current chain' }),
  ),
  created_at: Type.String({ format: 'date-time' }),
  deleted_at: Nullable(Type.String({ format: 'date-time', description: 'Set by DELETE (then no new fine-tune may use it)' })),
}, {
  title: 'Dataset',
  description: "A dataset's metadata (its content is never served)",
  examples: [DATASET_EXAMPLE, { ...DATASET_EXAMPLE, ocean: PUBLISHED_EXAMPLE }],
});

function datasetView(d: DatasetRow, viewer: string) {
  const owned = d.ownerAccountId === viewer;
  return {
    id: d.id,
    object: 'dataset' as const,
    name: d.name,
    description: d.description,
    format: d.format,
    sha256: d.sha256,
    bytes: d.bytes,
    documents: d.documents,
    tokens: d.tokens,
    price_per_job: d.pricePerJob,
    listed: d.listed,
    owner_account_id: owned ? d.ownerAccountId : null,
    owned_by_you: owned,
    ocean:
      d.did && d.nftAddress && d.datatokenAddress && d.chainId !== null
        ? {
            chain_id: d.chainId,
            did: d.did,
            nft_address: d.nftAddress,
            datatoken_address: d.datatokenAddress,
            content_sha256: d.sha256,
            tx_hashes: d.publishTxHashes ?? {},
          }
        : null,
    created_at: d.createdAt.toISOString(),
    deleted_at: d.deletedAt?.toISOString() ?? null,
  };
}

const UploadQuery = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'A name for people', examples: ['support tickets'] }),
    description: Type.Optional(Type.String({ maxLength: 2000, description: 'What it holds, for people', examples: ['Answered tickets, 2025'] })),
    price_per_job: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        default: 0,
        description: 'Micro-credits paid to you by each fine-tune that uses it',
        examples: [50000],
      }),
    ),
    listed: Type.Optional(Type.Boolean({ default: false, description: 'Let every account train on it (at price_per_job)', examples: [true] })),
  },
  { additionalProperties: false },
);

const TEXT_TYPES = ['text/plain'];
const JSONL_TYPES = ['application/jsonl', 'application/x-ndjson', 'application/jsonlines'];
const security = [{ apiKey: [] }];

function formatOf(contentType: string | undefined): DatasetFormat {
  const type = String(contentType ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (TEXT_TYPES.includes(type)) return 'text';
  if (JSONL_TYPES.includes(type)) return 'jsonl';
  throw new AppError('unsupported_media_type', `send the dataset as ${[...TEXT_TYPES, ...JSONL_TYPES].join(', ')}`);
}

const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const limit = app.config.datasetUploadLimitBytes;
  // The raw bytes: their sha256 is the dataset's identity, so nothing may re-encode them first. In
  // this plugin only: elsewhere text/plain keeps Fastify's parser.
  app.removeContentTypeParser(TEXT_TYPES);
  app.addContentTypeParser([...TEXT_TYPES, ...JSONL_TYPES], { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));
  const deps = () => ({ db: app.db, dataDir: app.config.dataDir });

  app.post(
    '/v1/datasets',
    {
      bodyLimit: limit,
      config: { auth: 'key', scope: 'finetune' },
      schema: {
        operationId: 'uploadDataset',
        tags: ['datasets'],
        summary: 'Upload a dataset for fine-tuning (its content is never served back)',
        description:
          'The body is the dataset: `text/plain` (UTF-8; one document, or several separated by lines that are exactly ' +
          '`<|endoftext|>`; pieces that are only whitespace are dropped) or JSONL (`application/jsonl`, ' +
          '`application/x-ndjson`; one JSON object per line with a string `text`, other fields ignored, blank lines ' +
          'skipped). At most DATASET_UPLOAD_LIMIT_BYTES (413 above) and DATASET_MAX_DOCUMENTS documents (413); an empty ' +
          'body, invalid UTF-8, a NUL character or a bad JSONL line is a 400 `validation_failed` naming the line (never ' +
          'its content). The bytes are stored by sha256 on the compute side; no route returns them. Unlisted datasets ' +
          "serve only your account's fine-tunes; listed ones anyone's, for `price_per_job`, paid to you in the ledger " +
          "transaction that captures the fine-tune's cost.",
        security,
        consumes: [...TEXT_TYPES, ...JSONL_TYPES],
        querystring: UploadQuery,
        body: Type.Unsafe<Buffer>({ description: 'The dataset: plain text or JSONL' }),
        response: { 201: DatasetSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS]) },
      },
    },
    async (request, reply) => {
      const { accountId } = keyPrincipal(request);
      const format = formatOf(request.headers['content-type']);
      const body: unknown = request.body ?? Buffer.alloc(0);
      if (!Buffer.isBuffer(body)) throw new AppError('unsupported_media_type', 'send the dataset as text/plain or JSONL');
      const q = request.query;
      const row = await uploadDataset(deps(), {
        ownerAccountId: accountId,
        name: q.name,
        description: q.description,
        format,
        bytes: body,
        pricePerJob: BigInt(q.price_per_job ?? 0),
        listed: q.listed ?? false,
        maxDocuments: app.config.datasetMaxDocuments,
      });
      return reply.code(201).send(datasetView(row, accountId));
    },
  );

  app.get(
    '/v1/datasets',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'listDatasets',
        tags: ['datasets'],
        summary: 'Your datasets and the listed ones (metadata only), newest first',
        description:
          "Deleted datasets and other accounts' unlisted ones are not shown. Pages with `next_cursor` like `GET /v1/jobs`.",
        security,
        querystring: PageQuery,
        response: { 200: Page(DatasetSchema, 'DatasetPage'), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      const page = await listDatasets(app.db, accountId, { limit: request.query.limit ?? 50, cursor: request.query.cursor });
      return { data: page.data.map((d) => datasetView(d, accountId)), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/datasets/:id',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'getDataset',
        tags: ['datasets'],
        summary: 'One dataset: yours or a listed one (metadata only)',
        description: "Another account's unlisted dataset, and a deleted one, are 404 `dataset_not_found`, as if it did not exist.",
        security,
        params: IdParams,
        response: { 200: DatasetSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      return datasetView(await getDataset(app.db, accountId, request.params.id), accountId);
    },
  );

  app.post(
    '/v1/datasets/:id/publish',
    {
      config: { auth: 'key', scope: 'finetune' },
      schema: {
        operationId: 'publishDataset',
        tags: ['datasets'],
        summary: 'Publish one of your datasets as a compute-only Ocean asset',
        description:
          'Mints a data NFT and a free datatoken, sets a DDO (v4.1, validated by Ocean\'s ddo-js first) whose only service ' +
          'is a compute service: its files, encrypted to the compute provider, name the content by sha256 in the ' +
          'marketplace\'s store, and only the marketplace runtime may compute on it; no Ocean or gateway route ever serves ' +
          'the content. The NFT\'s ERC725 data holds the sha256 under keccak256("posthuman.dataset_sha256"). Answers the ' +
          'dataset with its `ocean` block: 201 when this call published it, 200 with the same asset when it was already ' +
          'published on this chain (publishing is idempotent; concurrent calls wait for each other). Another account\'s ' +
          'listed dataset is 403; an unlisted one, or a deleted one, 404; a gateway without a chain 503 `chain_unavailable`.',
        security,
        params: IdParams,
        body: NoBody,
        response: {
          201: DatasetSchema,
          200: DatasetSchema,
          ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS, 404]),
        },
      },
    },
    async (request, reply) => {
      const { accountId } = keyPrincipal(request);
      const { row, created } = await publishDataset({ db: app.db, ocean: app.ocean }, accountId, request.params.id);
      return reply.code(created ? 201 : 200).send(datasetView(row, accountId));
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      config: { auth: 'key', scope: 'finetune' },
      schema: {
        operationId: 'deleteDataset',
        tags: ['datasets'],
        summary: 'Delete one of your datasets',
        description:
          'No new fine-tune may use it; fine-tunes already accepted still train on it. The stored content is removed ' +
          'once no other dataset row and no unfinished fine-tune refers to its sha256. Answers the dataset with ' +
          "`deleted_at` set. Another account's listed dataset is 403; an unlisted one, or one already deleted, 404.",
        security,
        params: IdParams,
        response: { 200: DatasetSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      return datasetView(await deleteDataset(deps(), accountId, request.params.id), accountId);
    },
  );
};

export default datasetRoutes;
