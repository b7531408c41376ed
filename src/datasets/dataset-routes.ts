// Dataset routes: upload, list, read metadata, delete. No route ever returns a dataset's content.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { keyPrincipal } from '../accounts/principal.js';
import { notFound } from '../errors/app-error.js';
import { BODY_ERRORS, errorResponses, IdParams, KEY_AUTH_ERRORS, MicroCreditsOut, Nullable, Uuid } from '../http/schemas.js';
import { createDataset, type DatasetRow, deleteDataset, findDataset, listDatasets } from './dataset-service.js';

const DatasetSchema = Type.Object({
  id: Uuid,
  object: Type.Literal('dataset'),
  name: Type.String(),
  description: Nullable(Type.String()),
  format: Type.Unsafe<'text' | 'jsonl'>({ type: 'string', enum: ['text', 'jsonl'] }),
  sha256: Type.String({ description: 'SHA-256 of the stored bytes, exactly as uploaded (fine-tune receipts name it)' }),
  bytes: Type.Integer(),
  documents: Type.Integer({ description: 'Documents the trainer reads: JSONL lines, or the pieces of a text between `<|endoftext|>` lines' }),
  tokens: Nullable(Type.Integer({ description: 'GPT-2 tokens over all documents' })),
  price_per_job: MicroCreditsOut,
  listed: Type.Boolean({ description: 'Listed: anyone may train on it for price_per_job; unlisted: only its owner' }),
  owned_by_you: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});

function datasetView(d: DatasetRow, viewer: string) {
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
    owned_by_you: d.ownerAccountId === viewer,
    created_at: d.createdAt.toISOString(),
  };
}

const UploadQuery = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    price_per_job: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Micro-credits paid to you by each fine-tune that uses it' }),
    ),
    listed: Type.Optional(Type.Boolean({ default: false, description: 'Let every account train on it (at price_per_job)' })),
  },
  { additionalProperties: false },
);

const TEXT_TYPES = ['text/plain'];
const JSONL_TYPES = ['application/jsonl', 'application/x-ndjson', 'application/jsonlines'];
const security = [{ apiKey: [] }];

const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const limit = app.config.datasetUploadLimitBytes;
  // The raw bytes: their sha256 is the dataset's identity, so nothing may re-encode them first.
  app.addContentTypeParser([...TEXT_TYPES, ...JSONL_TYPES], { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));

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
          '`<|endoftext|>`) or JSONL (`application/jsonl`; one JSON object per line with a string `text`). At most ' +
          'DATASET_UPLOAD_LIMIT_BYTES (413 above) and DATASET_MAX_DOCUMENTS documents; invalid UTF-8, NUL characters or a ' +
          'bad JSONL line are a 400 naming the line (never its content). The bytes are stored by sha256 on the compute ' +
          'side; no route returns them. Listed datasets can be used by anyone for `price_per_job`, paid to you in the ' +
          "ledger transaction that captures the fine-tune's cost.",
        security,
        consumes: [...TEXT_TYPES, ...JSONL_TYPES],
        querystring: UploadQuery,
        body: Type.Unsafe<Buffer>({ description: 'The dataset: plain text or JSONL' }),
        response: { 201: DatasetSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS, 400]) },
      },
    },
    async (request, reply) => {
      const { accountId } = keyPrincipal(request);
      const type = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const q = request.query;
      const row = await createDataset(app.db, app.config.dataDir, {
        ownerAccountId: accountId,
        name: q.name,
        description: q.description,
        format: JSONL_TYPES.includes(type) ? 'jsonl' : 'text',
        bytes: request.body as Buffer,
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
        security,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(DatasetSchema) }), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      const rows = await listDatasets(app.db, accountId, request.query.limit ?? 100);
      return { data: rows.map((d) => datasetView(d, accountId)) };
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
        security,
        params: IdParams,
        response: { 200: DatasetSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      const row = await findDataset(app.db, accountId, request.params.id);
      if (!row) throw notFound('dataset');
      return datasetView(row, accountId);
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
          'once no other dataset row and no unfinished job refers to its sha256.',
        security,
        params: IdParams,
        response: { 200: DatasetSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = keyPrincipal(request);
      const row = await deleteDataset(app.db, app.config.dataDir, accountId, request.params.id);
      if (!row) throw notFound('dataset');
      return datasetView(row, accountId);
    },
  );
};

export default datasetRoutes;
