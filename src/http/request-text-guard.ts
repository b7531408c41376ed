// Refuses text no route can store or sign: NUL characters (Postgres text and jsonb cannot hold
// them) and lone UTF-16 surrogates (not Unicode; they become U+FFFD or fail in encoders). One hook
// checks every string and key of the body, query and path parameters and names the first offender.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors/app-error.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function flaw(text: string): string | undefined {
  if (text.includes('\0')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** The first string or key in value that cannot be stored, as [field, what is wrong]; iterative, so any depth is safe. */
export function findUnstorableText(value: unknown, root: string): [field: string, problem: string] | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (typeof item === 'string') {
      const problem = flaw(item);
      if (problem) return [path, problem];
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], `${path}.${i}`]);
    } else if (item !== null && typeof item === 'object' && !Buffer.isBuffer(item)) {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const problem = flaw(key);
        if (problem) return [path, `has a key that ${problem}`];
        stack.push([child, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

export default fp(
  async function requestTextGuard(app: FastifyInstance) {
    app.addHook('preValidation', async (request) => {
      const parts: [unknown, string][] = [
        [request.params, 'params'],
        [request.query, 'querystring'],
        [request.body, 'body'],
      ];
      for (const [value, root] of parts) {
        const found = findUnstorableText(value, root);
        if (found) throw new AppError('validation_failed', `${found[0]} ${found[1]}`, { field: found[0] });
      }
    });
  },
  { name: 'request-text-guard', dependencies: ['error-handler'] },
);
