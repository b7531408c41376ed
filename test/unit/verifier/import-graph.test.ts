// The verifier's promise: the CLI, the gateway and a browser run the same code. Every file reachable
// from src/verifier/ by relative imports must import no database, server, queue or Node-only module,
// and use no Node-only global.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const VERIFIER = join(ROOT, 'src/verifier');

const FORBIDDEN_PACKAGES = [
  /^drizzle-orm(\/|$)/,
  /^drizzle-kit(\/|$)/,
  /^pg(\/|$)/,
  /^pg-/,
  /^@electric-sql\/pglite/,
  /^postgres$/,
  /^fastify(\/|$)/,
  /^fastify-/,
  /^@fastify\//,
  /^ioredis(\/|$)/,
  /^bullmq(\/|$)/,
  /^node:/,
  /^(assert|buffer|child_process|cluster|crypto|dgram|dns|events|fs|fs\/promises|http|http2|https|module|net|os|path|perf_hooks|process|readline|stream|tls|tty|url|util|v8|vm|worker_threads|zlib)$/,
];
const FORBIDDEN_DIRS = ['src/db', 'src/plugins', 'src/config'].map((d) => join(ROOT, d));
// Globals a browser lacks: using one is a Node-only import by another name.
const NODE_GLOBALS = /\b(Buffer|require|__dirname|__filename)\b|\bprocess\./;

/** Every module specifier in a TypeScript source: static, re-export, side-effect, dynamic and type-only imports. */
function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]);
  return found;
}

function resolveRelative(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
  }
  throw new Error(`${relative(ROOT, from)} imports ${specifier}, which resolves to no .ts file`);
}

/** Walks relative imports from `entries`; returns every reachable file and every forbidden use found. */
function walk(entries: string[]): { files: string[]; problems: string[] } {
  const seen = new Set<string>();
  const problems: string[] = [];
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const name = relative(ROOT, file);
    if (FORBIDDEN_DIRS.some((dir) => file.startsWith(`${dir}/`))) problems.push(`${name} is in a server-only folder`);
    const source = readFileSync(file, 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    const global = NODE_GLOBALS.exec(code);
    if (global) problems.push(`${name} uses the Node-only global ${global[0]}`);
    for (const specifier of importSpecifiers(source)) {
      if (specifier.startsWith('.')) queue.push(resolveRelative(file, specifier));
      else if (FORBIDDEN_PACKAGES.some((p) => p.test(specifier))) problems.push(`${name} imports ${specifier}`);
    }
  }
  return { files: [...seen].map((f) => relative(ROOT, f)).sort(), problems };
}

const verifierFiles = () =>
  readdirSync(VERIFIER, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(VERIFIER, f));

describe('the verifier import graph', () => {
  it('reaches no database, server, queue or Node-only module from any file in src/verifier', () => {
    const { files, problems } = walk(verifierFiles());
    expect(files).toContain('src/verifier/receipt-checks.ts');
    // It follows relative imports out of the folder (the wire types live with the log).
    expect(files).toContain('src/receipts/log-types.ts');
    expect(problems).toEqual([]);
  });

  it('finds what it forbids (the gateway side of receipts is Node-only)', () => {
    const { problems } = walk(['src/receipts/receipt-signer.ts', 'src/receipts/verify-routes.ts', 'src/plugins/receipts.ts'].map((f) => join(ROOT, f)));
    expect(problems).toEqual(
      expect.arrayContaining([
        'src/receipts/merkle.ts imports node:crypto',
        'src/receipts/verify-routes.ts imports @fastify/type-provider-typebox',
        'src/receipts/merkle.ts uses the Node-only global Buffer',
        'src/plugins/receipts.ts is in a server-only folder',
      ]),
    );
    expect(problems.some((p) => /imports drizzle-orm/.test(p))).toBe(true);
  });

  it('reads every kind of import specifier', () => {
    const source = [
      "import a from 'one';",
      "import type { B } from './two.js';",
      "export { c } from '../three.js';",
      "export * from 'four';",
      "import 'five';",
      "const six = await import('six');",
      'import {',
      '  seven,',
      "} from 'seven';",
      "// import x from 'commented';",
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(['../three.js', './two.js', 'five', 'four', 'one', 'seven', 'six']);
  });
});
