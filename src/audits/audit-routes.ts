// Operator routes for replay audits: audit a job now, read an audit.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, notFound } from '../errors/app-error.js';
import { BODY_ERRORS, errorResponses, Nullable, OPERATOR_AUTH_ERRORS, Uuid } from '../http/schemas.js';
import { createJobRepository } from '../jobs/job-repository.js';
import { AUDIT_STATUSES, type AuditStatus } from './audits-schema.js';
import { auditView, findAudit, requestAudit } from './audit-service.js';


export const AuditSchema = Type.Object({
  id: Uuid,
  job_id: Uuid,
  status: Type.Unsafe<AuditStatus>({ type: 'string', enum: [...AUDIT_STATUSES] }),
  reason: Type.String({ description: 'sampled (AUDIT_FRACTION) or operator' }),
  original_worker_id: Nullable(Type.String()),
  replay_worker_id: Nullable(Type.String()),
  original_output_sha256: Nullable(Type.String()),
  replay_output_sha256: Nullable(Type.String()),
  detail: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  finished_at: Nullable(Type.String({ format: 'date-time' })),
}, {
  title: 'Audit',
  description: 'A replay of a succeeded job on another worker, and whether its output matched',
  examples: [
    {
      id: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
      job_id: '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
      status: 'passed',
      reason: 'operator',
      original_worker_id: 'worker-1',
      replay_worker_id: 'worker-2',
      original_output_sha256: '4c1d…9e0f',
      replay_output_sha256: '4c1d…9e0f',
      detail: null,
      created_at: '2026-11-27T10:53:00.000Z',
      finished_at: '2026-11-27T10:53:01.210Z',
    },
  ],
});

const security = [{ operatorToken: [] }];

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/admin/audits',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'requestAudit',
        tags: ['admin'],
        summary: 'Replay a job on another worker and compare its output',
        description:
          'Re-runs a succeeded job with the same input, parameters and seed on a worker other than the one that ' +
          "served it, on the registered weights. A different output marks the audit `mismatch`, counts against the " +
          'model and flags the original worker; the job answer shows the audit.',
        security,
        body: Type.Object(
          { job_id: Type.String({ format: 'uuid', description: 'A succeeded job to replay', examples: ['6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11'] }) },
          { additionalProperties: false, title: 'RequestAuditRequest' },
        ),
        response: { 202: AuditSchema, ...errorResponses([...OPERATOR_AUTH_ERRORS, ...BODY_ERRORS, 404, 409]) },
      },
    },
    async (request, reply) => {
      const job = await createJobRepository(app.db).find(request.body.job_id);
      if (!job) throw notFound('job');
      if (job.status !== 'succeeded') throw new AppError('conflict', `only succeeded jobs can be audited; this one is ${job.status}`);
      return reply.code(202).send(auditView(await requestAudit(app.db, app.jobQueue, job.id, 'operator', request.log)));
    },
  );

  app.get(
    '/v1/admin/audits/:id',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'getAudit',
        tags: ['admin'],
        summary: 'One replay audit',
        description: 'queued, running, then passed (same output bytes), mismatch (different: counted against the model) or error.',
        security,
        params: Type.Object({ id: Type.String({ format: 'uuid', description: 'The audit id', examples: ['7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d'] }) }),
        response: { 200: AuditSchema, ...errorResponses([...OPERATOR_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const audit = await findAudit(app.db, request.params.id);
      if (!audit) throw notFound('audit');
      return auditView(audit);
    },
  );
};

export default auditRoutes;
