// Serves the marketplace web app (web/, built by `npm run build:web` into web/dist) at `/`: each built
// file as its own route, read once at boot, under a strict Content-Security-Policy (no inline script).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ChainSetup } from '../ocean/chain-setup.js';

export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** What the app reads at start: how to link chain values, and where a browser reads the chain. */
export interface WebAppConfig {
  explorer_url_pattern: string | null;
  chain_rpc_url: string | null;
}

/** The policy of every page and asset: scripts and styles only from files of this origin, no frames. */
export function contentSecurityPolicy(chainRpcUrl: string | null): string {
  const connect = ["'self'", ...(chainRpcUrl ? [new URL(chainRpcUrl).origin] : [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

export default fp(
  async function webApp(app: FastifyInstance, options: { chain: ChainSetup | null; distDir?: string }) {
    const dist = options.distDir ?? WEB_DIST_DIR;
    // An RPC URL set for the operator's own use may carry a provider key: only a local embedded chain's is shown unasked.
    const chainRpcUrl = app.config.web.chainRpcUrl ?? (options.chain?.mode === 'embedded' ? options.chain.config.rpcUrl : null);
    const webConfig: WebAppConfig = { explorer_url_pattern: app.config.web.explorerUrlPattern ?? null, chain_rpc_url: chainRpcUrl };
    const securityHeaders = {
      'content-security-policy': contentSecurityPolicy(chainRpcUrl),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    };
    const hidden = { schema: { hide: true }, config: { auth: 'none' as const } };

    app.get('/app-config.json', hidden, async (_request, reply) => {
      reply.headers({ ...securityHeaders, 'cache-control': 'no-cache' });
      return webConfig;
    });

    if (!existsSync(join(dist, 'index.html'))) {
      app.log.warn({ dist }, 'the web app is not built (npm run build:web): / answers 503');
      app.get('/', hidden, async (_request, reply) =>
        reply.code(503).type('text/plain; charset=utf-8').send('The web app is not built: run npm run build:web, then restart the gateway.\n'),
      );
      return;
    }
    for (const path of listFiles(dist)) {
      const rel = relative(dist, path).split(sep).join('/');
      const body = readFileSync(path);
      const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
      // Vite names every file under assets/ by its content hash: it never changes under the same name.
      const cache = rel === 'index.html' ? 'no-cache' : rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
      const headers = { ...securityHeaders, 'content-type': type, 'cache-control': cache };
      app.get(rel === 'index.html' ? '/' : `/${rel}`, hidden, async (_request, reply) => reply.headers(headers).send(body));
    }
  },
  { name: 'web-app', dependencies: ['services'] },
);
