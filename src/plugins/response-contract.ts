// Test aid: records every response whose status its route's schema does not declare, so the
// statuses sent by the error handler and those in the OpenAPI document cannot drift apart.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    contractViolations: string[];
  }
}

export default fp(
  async function responseContract(app: FastifyInstance) {
    const violations: string[] = [];
    app.decorate('contractViolations', violations);
    app.addHook('onSend', async (request, reply) => {
      const url = request.routeOptions.url;
      if (!url || request.routeOptions.schema?.hide) return;
      const declared = request.routeOptions.schema?.response as Record<string, unknown> | undefined;
      const status = String(reply.statusCode);
      if (!declared || !(status in declared || `${status[0]}xx` in declared || 'default' in declared)) {
        violations.push(`${request.method} ${url} answered ${status}, which its schema does not declare`);
      }
    });
  },
  { name: 'response-contract' },
);
