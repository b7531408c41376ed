import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Container,
  containersOf,
  identityProblems,
  type K8sObject,
  label,
  loadManifests,
  type Manifest,
  matchLabelsOf,
  podLabelsOf,
  podSecurityProblems,
  podSpecOf,
  probeProblems,
  secretValueProblems,
  selectorProblems,
} from './k8s-manifests.js';
import { closedPort, type Running, runNodeCommand, tcpServer } from './probe-runner.js';

const deployDir = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const k8sDir = join(deployDir, 'k8s');
const manifests = loadManifests(k8sDir);
const NAMESPACE = 'posthuman';

function ofKind(kind: string): Manifest[] {
  return manifests.filter((m) => m.object.kind === kind);
}

function named(kind: string, name: string): K8sObject {
  const found = ofKind(kind).find((m) => m.object.metadata?.name === name);
  if (!found) throw new Error(`${kind}/${name} is missing`);
  return found.object;
}

function mainContainer(object: K8sObject): Container {
  const pod = podSpecOf(object);
  if (!pod || pod.containers.length === 0) throw new Error(`${object.kind}/${object.metadata?.name} has no containers`);
  return pod.containers[0];
}

const scaleTargetOf = (s: K8sObject) => (s.spec?.scaleTargetRef as { name?: string } | undefined)?.name ?? '';

const commandLine = (c: Container) => [...(c.command ?? []), ...(c.args ?? [])].join(' ');

/** A copy of `object` changed by `edit`, to show a rule failing. */
function broken(m: Manifest, edit: (o: K8sObject) => void): Manifest {
  const object = structuredClone(m.object);
  edit(object);
  return { file: m.file, object };
}

describe('every manifest under deploy/k8s', () => {
  it('parses, and each document has apiVersion, kind and metadata.name, once', () => {
    expect(manifests.length).toBeGreaterThan(5);
    expect(identityProblems(manifests)).toEqual([]);
    const gateway = ofKind('Deployment')[0];
    expect(identityProblems([broken(gateway, (o) => delete o.apiVersion)])).toHaveLength(1);
    expect(identityProblems([broken(gateway, (o) => delete o.kind)])).toHaveLength(1);
    expect(identityProblems([broken(gateway, (o) => delete o.metadata?.name)])).toHaveLength(1);
    expect(identityProblems([gateway, gateway])).toHaveLength(1);
  });

  it('puts every namespaced object in the posthuman namespace, which is defined', () => {
    expect(named('Namespace', NAMESPACE)).toBeDefined();
    for (const m of manifests) {
      if (['Namespace', 'Kustomization'].includes(m.object.kind ?? '')) continue;
      expect(m.object.metadata?.namespace, label(m)).toBe(NAMESPACE);
    }
  });

  it('kustomization.yaml lists existing files and leaves the Secret template out', () => {
    const kustomization = named('Kustomization', 'posthuman') as K8sObject & { resources?: string[] };
    const resources = kustomization.resources ?? [];
    expect(resources.length).toBeGreaterThan(0);
    for (const file of resources) expect(existsSync(join(k8sDir, file)), file).toBe(true);
    const secretFiles = ofKind('Secret').map((m) => m.file);
    expect(secretFiles.length).toBeGreaterThan(0);
    for (const file of secretFiles) expect(resources).not.toContain(file);
  });
});

describe('workloads', () => {
  const workloads = manifests.filter((m) => podSpecOf(m.object));

  it('run non-root, without privilege escalation, dropping all capabilities', () => {
    expect(workloads.length).toBeGreaterThanOrEqual(4);
    for (const m of workloads) expect(podSecurityProblems(m)).toEqual([]);
    const gateway = ofKind('Deployment')[0];
    const asRoot = broken(gateway, (o) => {
      const pod = podSpecOf(o);
      if (pod) pod.securityContext = { runAsUser: 0 };
    });
    expect(podSecurityProblems(asRoot).join('\n')).toMatch(/runAsNonRoot is not true/);
    expect(podSecurityProblems(asRoot).join('\n')).toMatch(/runAsUser is 0/);
    const escalating = broken(gateway, (o) => {
      const container = podSpecOf(o)?.containers[0];
      if (container) container.securityContext = { privileged: true };
    });
    expect(podSecurityProblems(escalating).join('\n')).toMatch(/privileged/);
  });

  it('Deployments have probes: HTTP readiness and liveness where a port is served', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.length).toBeGreaterThanOrEqual(3);
    for (const m of deployments) expect(probeProblems(m)).toEqual([]);
    const gateway = deployments.find((m) => (mainContainer(m.object).ports ?? []).length > 0);
    expect(gateway).toBeDefined();
    if (!gateway) return;
    const noLiveness = broken(gateway, (o) => delete mainContainer(o).livenessProbe);
    expect(probeProblems(noLiveness)).toHaveLength(1);
    const wrongPort = broken(gateway, (o) => {
      const probe = mainContainer(o).readinessProbe;
      if (probe?.httpGet) probe.httpGet.port = 'metrics';
    });
    expect(probeProblems(wrongPort)).toHaveLength(1);
    const worker = deployments.find((m) => (mainContainer(m.object).ports ?? []).length === 0);
    if (worker) expect(probeProblems(broken(worker, (o) => delete mainContainer(o).readinessProbe))).toHaveLength(1);
  });

  it('select their own pods', () => {
    for (const m of workloads) expect(selectorProblems(m)).toEqual([]);
    const gateway = ofKind('Deployment')[0];
    const mismatch = broken(gateway, (o) => {
      matchLabelsOf(o)['app.kubernetes.io/component'] = 'other';
    });
    expect(selectorProblems(mismatch)).toHaveLength(1);
  });

  it('pin an image tag and bound their memory', () => {
    for (const m of workloads) {
      for (const c of containersOf(podSpecOf(m.object) ?? { containers: [] })) {
        expect(c.image, `${label(m)} ${c.name}`).toMatch(/^[^:@\s]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
        expect(c.image, `${label(m)} ${c.name}`).not.toMatch(/:latest$/);
        expect(c.resources?.limits?.memory, `${label(m)} ${c.name}`).toBeDefined();
      }
    }
  });

  it('reference only the ConfigMaps, Secrets and volume claims defined here', () => {
    const defined = (kind: string) => new Set(ofKind(kind).map((m) => m.object.metadata?.name));
    const configMaps = defined('ConfigMap');
    const secrets = defined('Secret');
    const claims = defined('PersistentVolumeClaim');
    for (const m of workloads) {
      const pod = podSpecOf(m.object);
      for (const c of containersOf(pod ?? { containers: [] })) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) expect(configMaps.has(from.configMapRef.name), label(m)).toBe(true);
          if (from.secretRef) expect(secrets.has(from.secretRef.name), label(m)).toBe(true);
        }
        for (const env of c.env ?? []) {
          const ref = env.valueFrom?.secretKeyRef ?? env.valueFrom?.configMapKeyRef;
          if (ref) expect(secrets.has(ref.name) || configMaps.has(ref.name), `${label(m)} ${env.name}`).toBe(true);
        }
      }
      for (const volume of pod?.volumes ?? []) {
        if (volume.persistentVolumeClaim) expect(claims.has(volume.persistentVolumeClaim.claimName), label(m)).toBe(true);
      }
    }
  });
});

describe('the gateway', () => {
  const deployment = named('Deployment', 'posthuman-gateway');
  const container = mainContainer(deployment);

  it('runs 2 replicas of dist/server.js, ready on /readyz and alive on /healthz', () => {
    expect(deployment.spec?.replicas).toBe(2);
    expect(commandLine(container)).toBe('node dist/server.js');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
  });

  it('is reached through a Service that selects its pods and targets its port', () => {
    const service = named('Service', 'posthuman-gateway');
    const selector = (service.spec?.selector ?? {}) as Record<string, string>;
    const podLabels = podLabelsOf(deployment);
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(selector)) expect(podLabels[k], k).toBe(v);
    const ports = (service.spec?.ports ?? []) as Array<{ targetPort: string | number }>;
    const containerPorts = (container.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(containerPorts).toContain(p.targetPort);
  });
});

describe('migrations and workers', () => {
  it('a Job runs node dist/cli.js migrate without restarting in place forever', () => {
    const job = ofKind('Job').map((m) => m.object);
    expect(job.map((j) => commandLine(mainContainer(j)))).toContain('node dist/cli.js migrate');
    for (const j of job) {
      expect(podSpecOf(j)?.restartPolicy).toBeOneOf(['Never', 'OnFailure']);
      expect(j.spec?.backoffLimit).toBeTypeOf('number');
    }
  });

  it('a worker Deployment runs dist/worker.js', () => {
    expect(commandLine(mainContainer(named('Deployment', 'posthuman-worker')))).toBe('node dist/worker.js');
  });

  it('the GPU worker asks for one NVIDIA GPU and only lands on GPU nodes', () => {
    const gpu = ofKind('Deployment').filter((m) => mainContainer(m.object).resources?.limits?.['nvidia.com/gpu'] !== undefined);
    expect(gpu).toHaveLength(1);
    const object = gpu[0].object;
    const container = mainContainer(object);
    expect(String(container.resources?.limits?.['nvidia.com/gpu'])).toBe('1');
    expect(commandLine(container)).toBe('node dist/worker.js');
    const pod = podSpecOf(object);
    expect(Object.keys(pod?.nodeSelector ?? {}).some((k) => k.startsWith('nvidia.com/'))).toBe(true);
    expect(pod?.tolerations?.some((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule')).toBe(true);
  });
});

describe('autoscaling by queue depth (KEDA)', () => {
  const scaled = ofKind('ScaledObject').map((m) => m.object);
  const prefix = named('ConfigMap', 'posthuman-config').data?.REDIS_PREFIX;

  it('scales each worker Deployment on BullMQ wait lists under the configured prefix', () => {
    expect(scaled.length).toBeGreaterThan(0);
    expect(prefix).toBeTypeOf('string');
    const deployments = new Set(ofKind('Deployment').map((m) => m.object.metadata?.name));
    const targets = scaled.map(scaleTargetOf);
    expect(targets).toContain('posthuman-worker');
    for (const s of scaled) {
      expect(s.apiVersion).toBe('keda.sh/v1alpha1');
      const target = scaleTargetOf(s);
      expect(deployments.has(target), target).toBe(true);
      expect(target).not.toBe('posthuman-gateway');
      const triggers = (s.spec?.triggers ?? []) as Array<{ type: string; metadata: Record<string, string> }>;
      expect(triggers.length).toBeGreaterThan(0);
      for (const t of triggers) {
        expect(t.type).toBe('redis');
        expect(t.metadata.listName).toMatch(new RegExp(`^${prefix}:bull:[A-Za-z0-9_-]+:wait$`));
        expect(Number(t.metadata.listLength)).toBeGreaterThan(0);
      }
    }
  });

  it('is documented as assuming KEDA', () => {
    const readme = readFileSync(join(deployDir, 'README.md'), 'utf8');
    expect(readme).toMatch(/KEDA/);
    for (const m of ofKind('ScaledObject')) expect(readme).toContain(m.file);
  });
});

describe('configuration and secrets', () => {
  it('no Secret carries a real value', () => {
    for (const m of ofKind('Secret')) expect(secretValueProblems(m)).toEqual([]);
    const template = ofKind('Secret')[0];
    const filled = broken(template, (o) => {
      o.stringData = { ...o.stringData, POSTHUMAN_OPERATOR_TOKEN: 'a'.repeat(64) };
    });
    expect(secretValueProblems(filled)).toHaveLength(1);
    const encoded = broken(template, (o) => {
      o.data = { DATABASE_URL: Buffer.from('postgres://u:p@h/db').toString('base64') };
    });
    expect(secretValueProblems(encoded)).toHaveLength(1);
  });

  it('the Secret template names every secret the app reads, as placeholders that cannot pass for real', () => {
    const template = named('Secret', 'posthuman-gateway-secrets');
    const values = { ...template.data, ...template.stringData } as Record<string, string>;
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'POSTHUMAN_OPERATOR_TOKEN', 'OCEAN_CONSUMER_KEY', 'OCEAN_PROVIDER_KEY']) {
      expect(Object.keys(values), key).toContain(key);
      // The app would fall back to embedded storage on an empty URL; a placeholder fails at boot.
      expect(values[key], key).not.toBe('');
    }
    expect(URL.canParse(values.DATABASE_URL)).toBe(false);
    expect(URL.canParse(values.REDIS_URL)).toBe(false);
    expect(values.POSTHUMAN_OPERATOR_TOKEN.length).toBeLessThan(32);
  });

  it('the ConfigMap holds no secret and sets the container settings', () => {
    const data = named('ConfigMap', 'posthuman-config').data ?? {};
    for (const key of Object.keys(data)) expect(key).not.toMatch(/TOKEN|PASSWORD|SECRET|KEY|DATABASE_URL|REDIS_URL/);
    expect(data.HOST).toBe('0.0.0.0');
    expect(data.POSTHUMAN_DATA_DIR).toBe('/data');
  });
});

describe('each role holds only its own secrets', () => {
  const workers = ['posthuman-worker', 'posthuman-worker-gpu'].map((name) => named('Deployment', name));
  const gateway = named('Deployment', 'posthuman-gateway');
  const claimsOf = (o: K8sObject) =>
    new Map((podSpecOf(o)?.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => [v.name, v.persistentVolumeClaim!]));
  const secretsOf = (o: K8sObject) => [
    ...(mainContainer(o).envFrom ?? []).flatMap((f) => (f.secretRef ? [f.secretRef.name] : [])),
    ...(mainContainer(o).env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
  ];

  it('workers get their own Secret, without the operator token or any wallet or signing key', () => {
    const workerSecret = named('Secret', 'posthuman-worker-secrets');
    const keys = Object.keys({ ...workerSecret.data, ...workerSecret.stringData });
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']));
    for (const key of keys) expect(key).not.toMatch(/TOKEN|_KEY$|PRIVATE|SIGNING/);
    for (const w of workers) expect(secretsOf(w), w.metadata?.name).toEqual(['posthuman-worker-secrets']);
    expect(secretsOf(gateway)).toEqual(['posthuman-gateway-secrets']);
    // The migrate Job reads only the database URL.
    const migrate = named('Job', 'posthuman-migrate');
    expect(mainContainer(migrate).envFrom?.some((f) => f.secretRef)).toBe(false);
    expect(secretsOf(migrate)).toEqual(['posthuman-gateway-secrets']);
    expect(mainContainer(migrate).env?.map((e) => e.name)).toEqual(['DATABASE_URL']);
  });

  it("no worker mounts the gateway's key volume; the gateway mounts it at its keys dir", () => {
    const gatewayClaims = [...claimsOf(gateway).values()].map((c) => c.claimName);
    expect(gatewayClaims).toContain('posthuman-gateway-keys');
    const keysVolume = [...claimsOf(gateway)].find(([, c]) => c.claimName === 'posthuman-gateway-keys')?.[0];
    expect(mainContainer(gateway).volumeMounts?.find((v) => v.name === keysVolume)?.mountPath).toBe('/data/keys');
    for (const w of workers) {
      const claims = [...claimsOf(w).values()].map((c) => c.claimName);
      expect(claims, w.metadata?.name).not.toContain('posthuman-gateway-keys');
      // Nothing the gateway mounts writable is mounted by a worker, but the weights (read-only).
      for (const claim of claims) expect(claim, w.metadata?.name).toBe('posthuman-weights');
    }
  });

  it('the weights store is read-only for workers, at the path the gateway writes it', () => {
    const gatewayWeights = [...claimsOf(gateway)].find(([, c]) => c.claimName === 'posthuman-weights')?.[0];
    expect(mainContainer(gateway).volumeMounts?.find((v) => v.name === gatewayWeights)?.mountPath).toBe('/data/weights');
    for (const w of workers) {
      const [name, claim] = [...claimsOf(w)].find(([, c]) => c.claimName === 'posthuman-weights') ?? [];
      expect(claim?.readOnly, w.metadata?.name).toBe(true);
      const mount = mainContainer(w).volumeMounts?.find((v) => v.name === name);
      expect(mount, w.metadata?.name).toMatchObject({ mountPath: '/data/weights', readOnly: true });
      // The worker's own /data (its attestation key) is its pod's alone.
      const data = mainContainer(w).volumeMounts?.find((v) => v.mountPath === '/data');
      expect(podSpecOf(w)?.volumes?.find((v) => v.name === data?.name)?.emptyDir, w.metadata?.name).toBeDefined();
    }
  });

  it('workers get the public chain facts, never a wallet key, from the ConfigMap', () => {
    const data = named('ConfigMap', 'posthuman-config').data ?? {};
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['CHAIN_CONSUMER_ADDRESS', 'CHAIN_PROVIDER_ADDRESS']));
  });
});

describe('the worker readiness probe', () => {
  const probe = mainContainer(named('Deployment', 'posthuman-worker')).readinessProbe?.exec?.command ?? [];
  const servers: Running[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('passes when Redis and Postgres accept connections', async () => {
    const redis = await tcpServer();
    const postgres = await tcpServer();
    servers.push(redis, postgres);
    const env = { REDIS_URL: `redis://127.0.0.1:${redis.port}`, DATABASE_URL: `postgres://u:p@127.0.0.1:${postgres.port}/db` };
    expect(await runNodeCommand(probe, env)).toBe(0);
  });

  it('fails when either is unreachable or unset', async () => {
    const up = await tcpServer();
    servers.push(up);
    const down = await closedPort();
    expect(await runNodeCommand(probe, { REDIS_URL: `redis://127.0.0.1:${down}`, DATABASE_URL: `postgres://127.0.0.1:${up.port}/db` })).not.toBe(0);
    expect(await runNodeCommand(probe, { REDIS_URL: `redis://127.0.0.1:${up.port}`, DATABASE_URL: `postgres://127.0.0.1:${down}/db` })).not.toBe(0);
    expect(await runNodeCommand(probe, { REDIS_URL: `redis://127.0.0.1:${up.port}` })).not.toBe(0);
  });
});
