import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ComposeFile,
  type ComposeService,
  createComposeValidator,
  dependenciesOf,
  environmentOf,
  formatErrors,
  interpolate,
  interpolateString,
  parseComposeYaml,
  secretProblems,
} from './compose-file.js';
import { closedPort, httpServer, type Running, runNodeCommand } from './probe-runner.js';

const composePath = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url));
const raw = parseComposeYaml(readFileSync(composePath, 'utf8'));
// What `docker compose config` sees with the two required secrets set in the environment.
const testEnv = { POSTHUMAN_OPERATOR_TOKEN: 'x'.repeat(32), POSTGRES_PASSWORD: 'pw' };
const config = interpolate(raw, testEnv);
const validate = createComposeValidator();
const services = config.services;
const appServices = ['chain', 'migrate', 'gateway', 'worker'];

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`service ${name} is missing`);
  return found;
}

function commandOf(name: string): string {
  const command = service(name).command;
  return Array.isArray(command) ? command.join(' ') : String(command ?? '');
}

function healthcheckOf(name: string): { test?: string | string[]; disable?: boolean } | undefined {
  return service(name).healthcheck as { test?: string | string[]; disable?: boolean } | undefined;
}

describe('docker-compose.yml against the Compose spec schema', () => {
  it('validates with zero errors', () => {
    const errors = validate(config);
    expect(errors, formatErrors(errors)).toEqual([]);
  });

  it('has no top-level version: (obsolete in the Compose spec)', () => {
    expect(Object.keys(raw)).not.toContain('version');
  });

  it('the validator refuses what the spec refuses', () => {
    const broken = structuredClone(config) as ComposeFile;
    broken.services.redis.restart_policy = 'always';
    (broken.services.postgres.healthcheck as Record<string, unknown>).interval = '5 seconds';
    broken.services.gateway.ports = ['eighty:8080'];
    const paths = validate(broken).map((e) => `${e.instancePath} ${e.message}`);
    expect(paths.some((p) => p.startsWith('/services/redis'))).toBe(true);
    expect(paths.some((p) => p.startsWith('/services/postgres/healthcheck/interval'))).toBe(true);
    expect(paths.some((p) => p.startsWith('/services/gateway/ports/0'))).toBe(true);
  });
});

describe('interpolation', () => {
  it('refuses to start without POSTHUMAN_OPERATOR_TOKEN or POSTGRES_PASSWORD', () => {
    expect(() => interpolate(raw, { POSTGRES_PASSWORD: 'pw' })).toThrow(/POSTHUMAN_OPERATOR_TOKEN/);
    expect(() => interpolate(raw, { ...testEnv, POSTHUMAN_OPERATOR_TOKEN: '' })).toThrow(/POSTHUMAN_OPERATOR_TOKEN/);
    expect(() => interpolate(raw, { POSTHUMAN_OPERATOR_TOKEN: 'x'.repeat(32) })).toThrow(/POSTGRES_PASSWORD/);
  });

  // biome-ignore-start lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax, not JS templates
  it('follows the Compose rules for defaults and escapes', () => {
    expect(interpolateString('${A:-d}|${A-d}|$$A|$A', { A: '' })).toBe('d||$A|');
    expect(interpolateString('${B:-d}|${B-d}|${B:+alt}', {})).toBe('d|d|');
    expect(() => interpolateString('${B?must}', {})).toThrow(/must/);
  });
  // biome-ignore-end lint/suspicious/noTemplateCurlyInString: -
});

describe('services', () => {
  it('has postgres, redis, migrate, gateway and worker', () => {
    for (const name of ['postgres', 'redis', ...appServices]) expect(Object.keys(services)).toContain(name);
  });

  it('runs postgres:16 with pg_isready and a named volume', () => {
    expect(service('postgres').image).toBe('postgres:16');
    expect(JSON.stringify(healthcheckOf('postgres')?.test)).toMatch(/pg_isready/);
    const volumes = (service('postgres').volumes ?? []) as string[];
    const data = volumes.find((v) => String(v).endsWith(':/var/lib/postgresql/data'));
    expect(data?.split(':')[0]).toBeOneOf(Object.keys(config.volumes ?? {}));
  });

  it('runs redis:7 with noeviction, AOF and a ping health check', () => {
    expect(service('redis').image).toBe('redis:7');
    const command = commandOf('redis');
    expect(command).toMatch(/--maxmemory-policy\s+noeviction\b/);
    expect(command).toMatch(/--appendonly\s+yes\b/);
    expect(JSON.stringify(healthcheckOf('redis')?.test)).toMatch(/redis-cli.*ping/);
  });

  it('builds one app image and runs each role by its command', () => {
    const images = new Set(appServices.map((name) => service(name).image));
    expect(images.size).toBe(1);
    for (const name of appServices) expect(service(name).build).toBeDefined();
    expect(commandOf('migrate')).toBe('node dist/cli.js migrate');
    expect(commandOf('gateway')).toBe('node dist/server.js');
    expect(commandOf('worker')).toBe('node dist/worker.js');
    expect(commandOf('chain')).toBe('node dist/chain.js');
  });

  it('publishes no port but the gateway: the chain, Postgres and Redis stay on the compose network', () => {
    for (const name of ['chain', 'postgres', 'redis']) expect(service(name).ports, name).toBeUndefined();
  });

  it('publishes the gateway on 8080 and runs two workers', () => {
    const ports = (service('gateway').ports ?? []) as string[];
    expect(ports.some((p) => /(^|:)8080(\/tcp)?$/.test(String(p)))).toBe(true);
    expect((service('worker').deploy as { replicas?: number } | undefined)?.replicas).toBe(2);
    expect(service('worker').container_name).toBeUndefined();
  });

  it('points the app at the compose Postgres and Redis', () => {
    for (const name of appServices) {
      const env = environmentOf(service(name));
      expect(env.get('DATABASE_URL'), name).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(env.get('REDIS_URL'), name).toBe('redis://redis:6379');
      expect(env.get('POSTHUMAN_DATA_DIR'), name).toBe('/data');
    }
  });

  const mounts = (name: string) =>
    ((service(name).volumes ?? []) as string[]).map((v) => {
      const [source, target, mode] = String(v).split(':');
      return { source, target, readOnly: mode === 'ro' };
    });

  it("gives the gateway its own /data (signing keys, wallet keys), mounted by no worker", () => {
    const gatewayData = mounts('gateway').find((m) => m.target === '/data');
    expect(gatewayData?.readOnly).toBe(false);
    expect(Object.keys(config.volumes ?? {})).toContain(gatewayData?.source);
    // Only the dev chain, which mints the gateway's wallets, writes there too.
    for (const name of Object.keys(services).filter((n) => n !== 'gateway' && n !== 'chain')) {
      expect(mounts(name).map((m) => m.source), name).not.toContain(gatewayData?.source);
    }
    expect(mounts('worker').some((m) => m.target === '/data' || m.target === '/data/keys')).toBe(false);
    expect(environmentOf(service('worker')).has('POSTHUMAN_OPERATOR_TOKEN')).toBe(false);
  });

  it('mounts the weights read-only in workers, where the gateway writes them, and the chain facts without a key', () => {
    const gatewayWeights = mounts('gateway').find((m) => m.target === '/data/weights');
    expect(gatewayWeights?.readOnly).toBe(false);
    const workerMounts = mounts('worker');
    expect(workerMounts).toContainEqual({ source: gatewayWeights?.source, target: '/data/weights', readOnly: true });
    // Every volume a worker mounts is read-only to it: nothing it writes is shared.
    for (const m of workerMounts) expect(m.readOnly, m.source).toBe(true);
    const publicFile = environmentOf(service('worker')).get('CHAIN_PUBLIC_FILE');
    expect(publicFile).toMatch(/ocean-public\.json$/);
    const chainPublic = mounts('chain').find((m) => publicFile?.startsWith(`${m.target}/`));
    expect(workerMounts).toContainEqual({ source: chainPublic?.source, target: chainPublic?.target, readOnly: true });
  });

  it('declares every named volume a service mounts', () => {
    const declared = Object.keys(config.volumes ?? {});
    for (const [name, svc] of Object.entries(services)) {
      for (const volume of (svc.volumes ?? []) as string[]) {
        const source = String(volume).split(':')[0];
        if (!source.startsWith('.') && !source.startsWith('/')) expect(declared, `${name}: ${source}`).toContain(source);
      }
    }
  });
});

describe('startup order', () => {
  it('every depends_on target is a service, with no cycle', () => {
    const names = new Set(Object.keys(services));
    const seen = new Set<string>();
    const visiting = new Set<string>();
    const visit = (name: string, path: string[]) => {
      expect(visiting.has(name), `cycle: ${[...path, name].join(' -> ')}`).toBe(false);
      if (seen.has(name)) return;
      visiting.add(name);
      for (const target of dependenciesOf(service(name)).keys()) {
        expect(names.has(target), `${name} depends on unknown service ${target}`).toBe(true);
        visit(target, [...path, name]);
      }
      visiting.delete(name);
      seen.add(name);
    };
    for (const name of names) visit(name, []);
  });

  it('migrates once Postgres is healthy; gateway and workers wait for it and for Redis', () => {
    expect(dependenciesOf(service('migrate')).get('postgres')).toBe('service_healthy');
    for (const name of ['gateway', 'worker']) {
      const deps = dependenciesOf(service(name));
      expect(deps.get('migrate'), name).toBe('service_completed_successfully');
      expect(deps.get('redis'), name).toBe('service_healthy');
      // Both order or validate on the chain; its addresses and wallets are in the shared /data.
      expect(deps.get('chain'), name).toBe('service_healthy');
      expect((service(name).environment as Record<string, string>).CHAIN_RPC_URL).toContain('chain:8545');
    }
    expect(service('migrate').restart ?? 'no').toBe('no');
  });
});

describe('secrets', () => {
  it('no service sets a literal POSTHUMAN_OPERATOR_TOKEN or POSTGRES_PASSWORD', () => {
    expect(secretProblems(raw, 'POSTHUMAN_OPERATOR_TOKEN')).toEqual([]);
    expect(secretProblems(raw, 'POSTGRES_PASSWORD')).toEqual([]);
    // Only the gateway holds the operator token.
    for (const name of appServices) {
      expect(environmentOf(service(name)).has('POSTHUMAN_OPERATOR_TOKEN'), name).toBe(name === 'gateway');
    }
  });

  it('the secret check catches literals, defaults and list-form values', () => {
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax, not JS templates
    const variants = [
      { environment: { POSTHUMAN_OPERATOR_TOKEN: 'abc' } },
      { environment: { POSTHUMAN_OPERATOR_TOKEN: '${POSTHUMAN_OPERATOR_TOKEN:-changeme}' } },
      { environment: { POSTHUMAN_OPERATOR_TOKEN: '${OTHER:?x}' } },
      { environment: ['POSTHUMAN_OPERATOR_TOKEN=abc'] },
    ];
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: -
    for (const svc of variants) {
      expect(secretProblems({ services: { s: svc } }, 'POSTHUMAN_OPERATOR_TOKEN'), JSON.stringify(svc)).toHaveLength(1);
    }
    expect(secretProblems({ services: { s: { environment: ['POSTHUMAN_OPERATOR_TOKEN'] } } }, 'POSTHUMAN_OPERATOR_TOKEN')).toEqual([]);
  });
});

describe('health checks', () => {
  let server: Running | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('the gateway check asks /healthz and follows its answer', async () => {
    const test = healthcheckOf('gateway')?.test;
    expect(Array.isArray(test) && test[0]).toBe('CMD');
    const command = (test as string[]).slice(1);
    const ok = await httpServer('/healthz', 200);
    server = ok;
    expect(await runNodeCommand(command, { PORT: String(ok.port) })).toBe(0);
    expect(ok.hits()).toBe(1);
    await ok.close();
    server = await httpServer('/healthz', 503);
    expect(await runNodeCommand(command, { PORT: String(server.port) })).not.toBe(0);
    expect(await runNodeCommand(command, { PORT: String(await closedPort()) })).not.toBe(0);
  });

  it('services that serve no HTTP turn off the image health check', () => {
    // The image's HEALTHCHECK asks /healthz, which only the gateway serves.
    for (const name of ['migrate', 'worker']) expect(healthcheckOf(name)?.disable, name).toBe(true);
  });
});
