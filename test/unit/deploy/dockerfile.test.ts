import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chainInstructions,
  type Dockerfile,
  dockerignorePatterns,
  effectiveUser,
  execForm,
  externalBases,
  finalStage,
  isDockerIgnored,
  parseCopy,
  parseDockerfile,
  runCommand,
  stageByRef,
} from './dockerfile-model.js';
import {
  finalEnv,
  multiStageProblems,
  nonRootUserProblems,
  onnxruntimeSkipProblems,
  productionDependencyProblems,
} from './dockerfile-rules.js';
import { closedPort, httpServer, type Running, runNodeCommand } from './probe-runner.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const final = finalStage(dockerfile);
const finalInstructions = chainInstructions(dockerfile, final).map((l) => l.instruction);

function fixture(text: string): Dockerfile {
  return parseDockerfile(text);
}

describe('Dockerfile stages', () => {
  it('builds in at least two stages', () => {
    expect(multiStageProblems(dockerfile)).toEqual([]);
    expect(multiStageProblems(fixture('FROM node:20-bookworm-slim\nRUN npm ci\n'))).toHaveLength(1);
  });

  it('pulls only node:20-bookworm-slim', () => {
    const bases = externalBases(dockerfile);
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toBe('node:20-bookworm-slim');
  });

  it('builds with all dependencies: npm ci, then npm run build, in one stage chain', () => {
    const builders = dockerfile.stages.filter((stage) =>
      chainInstructions(dockerfile, stage).some((l) => /\bnpm run build\b/.test(runCommand(l.instruction))),
    );
    expect(builders.length).toBeGreaterThan(0);
    const steps = chainInstructions(dockerfile, builders[0]).map((l) => l.instruction);
    const install = steps.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b(?![^;&|]*--omit)/.test(runCommand(i)));
    const build = steps.findIndex((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(runCommand(i)));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(build).toBeGreaterThan(install);
  });
});

describe('Dockerfile final stage', () => {
  it('runs as a user that is not root', () => {
    expect(nonRootUserProblems(dockerfile)).toEqual([]);
    expect(effectiveUser(dockerfile, final)).toBe('node');
    expect(nonRootUserProblems(fixture('FROM node:20-bookworm-slim AS a\nFROM a\nCMD ["node"]\n'))).toHaveLength(1);
    expect(nonRootUserProblems(fixture('FROM node:20-bookworm-slim AS a\nFROM a\nUSER node\nUSER 0:0\n'))).toHaveLength(1);
    // A USER set in the stage the final one is built FROM is inherited.
    expect(nonRootUserProblems(fixture('FROM node:20-bookworm-slim AS a\nUSER node\nFROM a\n'))).toEqual([]);
  });

  it('gets production dependencies only, from npm ci --omit=dev', () => {
    expect(productionDependencyProblems(dockerfile)).toEqual([]);
    const withDev = fixture(
      'FROM node:20-bookworm-slim AS build\nRUN npm ci\nFROM node:20-bookworm-slim\nCOPY --from=build /app/node_modules ./node_modules\n',
    );
    expect(productionDependencyProblems(withDev).join('\n')).toMatch(/dev dependencies/);
    const plainInFinal = fixture('FROM node:20-bookworm-slim AS build\nRUN npm ci\nFROM node:20-bookworm-slim\nRUN npm ci\n');
    expect(productionDependencyProblems(plainInFinal).join('\n')).toMatch(/without --omit=dev/);
    const none = fixture('FROM node:20-bookworm-slim AS build\nRUN npm ci\nFROM node:20-bookworm-slim\nCMD ["node"]\n');
    expect(productionDependencyProblems(none)).toHaveLength(1);
    const inFinal = fixture('FROM node:20-bookworm-slim AS build\nRUN npm ci\nFROM node:20-bookworm-slim\nRUN npm ci --omit=dev\n');
    expect(productionDependencyProblems(inFinal)).toEqual([]);
  });

  it('copies dist from the build, migrations and package.json', () => {
    const copies = finalInstructions.filter((i) => i.keyword === 'COPY').map(parseCopy);
    const dist = copies.find((c) => c.sources.some((s) => /(^|\/)dist\/?$/.test(s)));
    expect(dist?.from).toBeDefined();
    const builder = stageByRef(dockerfile, dist?.from ?? '');
    expect(builder).toBeDefined();
    if (builder) {
      const built = chainInstructions(dockerfile, builder).some((l) => /\bnpm run build\b/.test(runCommand(l.instruction)));
      expect(built).toBe(true);
    }
    // The context copies: migrations are applied at start and by `cli.js migrate`; package.json
    // carries "type": "module", without which Node cannot load dist/*.js.
    const fromContext = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(fromContext).toContain('migrations');
    expect(fromContext).toContain('package.json');
  });

  it('sets NODE_ENV=production, HOST=0.0.0.0 and the data dir', () => {
    const env = finalEnv(dockerfile);
    expect(env.get('NODE_ENV')).toBe('production');
    expect(env.get('HOST')).toBe('0.0.0.0');
    expect(env.get('POSTHUMAN_DATA_DIR')).toBe('/data');
  });

  it('makes /data, the models folder and ./.posthuman writable by the runtime user', () => {
    const user = effectiveUser(dockerfile, final) ?? '';
    const chowns = finalInstructions
      .filter((i) => i.keyword === 'RUN')
      .flatMap((i) => [...runCommand(i).matchAll(/chown\s+(?:-\S+\s+)*(\S+)\s+([^;&|]+)/g)])
      .filter((m) => m[1].split(':')[0] === user)
      .flatMap((m) => m[2].trim().split(/\s+/));
    expect(chowns).toContain('/data');
    expect(chowns.some((p) => /(^|\/)models$/.test(p))).toBe(true);
    // The tiny model's default folder is .posthuman/models/… under the working directory.
    expect(chowns).toContain('/app/.posthuman');
  });

  it('starts the gateway with CMD ["node", "dist/server.js"] and no ENTRYPOINT', () => {
    const cmd = finalInstructions.filter((i) => i.keyword === 'CMD').at(-1);
    expect(cmd && execForm(cmd.args)).toEqual(['node', 'dist/server.js']);
    // Compose and Kubernetes choose the role by replacing the command.
    expect(finalInstructions.some((i) => i.keyword === 'ENTRYPOINT')).toBe(false);
  });
});

describe('npm and onnxruntime-node', () => {
  it('sets ONNXRUNTIME_NODE_INSTALL=skip before every npm ci', () => {
    expect(onnxruntimeSkipProblems(dockerfile)).toEqual([]);
    const after = fixture('FROM node:20-bookworm-slim\nRUN npm ci\nENV ONNXRUNTIME_NODE_INSTALL=skip\n');
    expect(onnxruntimeSkipProblems(after)).toHaveLength(1);
    // ENV does not cross a FROM of a registry image: the second stage runs without it.
    const lost = fixture(
      'FROM node:20-bookworm-slim AS a\nENV ONNXRUNTIME_NODE_INSTALL=skip\nRUN npm ci\nFROM node:20-bookworm-slim\nRUN npm ci --omit=dev\n',
    );
    expect(onnxruntimeSkipProblems(lost)).toHaveLength(1);
    const inherited = fixture(
      'FROM node:20-bookworm-slim AS a\nENV ONNXRUNTIME_NODE_INSTALL=skip\nFROM a AS b\nRUN npm ci\nFROM a\nRUN npm ci --omit=dev\n',
    );
    expect(onnxruntimeSkipProblems(inherited)).toEqual([]);
    const inline = fixture('FROM node:20-bookworm-slim\nRUN ONNXRUNTIME_NODE_INSTALL=skip npm ci\n');
    expect(onnxruntimeSkipProblems(inline)).toEqual([]);
  });
});

describe('HEALTHCHECK', () => {
  const healthcheck = finalInstructions.filter((i) => i.keyword === 'HEALTHCHECK').at(-1);
  const command = execForm(healthcheck?.args.replace(/^(?:--\S+\s+)*CMD\s+/, '') ?? '');
  let server: Running | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is an exec-form node command on /healthz (slim has no curl)', () => {
    expect(command?.[0]).toBe('node');
    expect(command?.join(' ')).toMatch(/\/healthz/);
    expect(command?.join(' ')).not.toMatch(/\b(curl|wget)\b/);
  });

  it('passes when /healthz answers 200 on $PORT', async () => {
    const ok = await httpServer('/healthz', 200);
    server = ok;
    expect(await runNodeCommand(command ?? [], { PORT: String(ok.port) })).toBe(0);
    expect(ok.hits()).toBe(1);
  });

  it('fails when /healthz answers 503 or nothing listens', async () => {
    server = await httpServer('/healthz', 503);
    expect(await runNodeCommand(command ?? [], { PORT: String(server.port) })).not.toBe(0);
    expect(await runNodeCommand(command ?? [], { PORT: String(await closedPort()) })).not.toBe(0);
  });
});

describe('.dockerignore', () => {
  const patterns = dockerignorePatterns(readFileSync(join(root, '.dockerignore'), 'utf8'));

  it('keeps host state, secrets and build output out of the context', () => {
    for (const path of ['node_modules', 'src/x/node_modules/y', '.git', '.posthuman', 'dist', 'coverage', '.env']) {
      expect(isDockerIgnored(path, patterns), path).toBe(true);
    }
  });

  it('keeps every path the Dockerfile copies from the context', () => {
    const sources = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
      .map(parseCopy)
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(root, source)), `${source} exists`).toBe(true);
      expect(isDockerIgnored(source, patterns), source).toBe(false);
    }
    expect(isDockerIgnored('src/server.ts', ['src'])).toBe(true);
    expect(isDockerIgnored('src/server.ts', ['src', '!src/server.ts'])).toBe(false);
  });
});
