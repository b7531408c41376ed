// Loads every YAML document under deploy/k8s/ and holds the rules the manifests must keep; each
// rule returns the problems it finds (empty = holds) so tests can also prove it fails.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Probe {
  httpGet?: { path?: string; port?: string | number };
  exec?: { command?: string[] };
  tcpSocket?: { port?: string | number };
  grpc?: { port?: number };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, { name?: string; key?: string }> }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: VolumeMount[];
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } };
  containers: Container[];
  initContainers?: Container[];
  nodeSelector?: Record<string, string>;
  tolerations?: Array<{ key?: string; operator?: string; effect?: string }>;
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean }; emptyDir?: object }>;
  restartPolicy?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
}

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Manifest {
  file: string;
  object: K8sObject;
}

export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return yamlFilesUnder(path);
      return e.isFile() && /\.ya?ml$/.test(e.name) ? [path] : [];
    })
    .sort();
}

/** Every non-empty document of every YAML file under `dir`; YAML errors throw with the file name. */
export function loadManifests(dir: string): Manifest[] {
  const out: Manifest[] = [];
  for (const path of yamlFilesUnder(dir)) {
    const file = relative(dir, path);
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
      const object = doc.toJS() as K8sObject | null;
      if (object !== null) out.push({ file, object });
    }
  }
  return out;
}

export const label = (m: Manifest) => `${m.file}: ${m.object.kind}/${m.object.metadata?.name}`;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function identityProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const m of manifests) {
    const { apiVersion, kind, metadata } = m.object;
    if (typeof apiVersion !== 'string' || apiVersion === '') problems.push(`${m.file}: a document has no apiVersion`);
    if (typeof kind !== 'string' || kind === '') problems.push(`${m.file}: a document has no kind`);
    const name = metadata?.name;
    if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name)) problems.push(`${m.file}: ${kind} has no valid metadata.name (${name})`);
    const key = `${apiVersion}/${kind}/${metadata?.namespace ?? ''}/${name}`;
    if (seen.has(key)) problems.push(`${label(m)} is defined twice`);
    seen.add(key);
  }
  return problems;
}

/** The pod template of a workload, or undefined for other kinds. */
export function podSpecOf(object: K8sObject): PodSpec | undefined {
  const template = (object.spec?.template as { spec?: PodSpec } | undefined)?.spec;
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(object.kind ?? '') ? template : undefined;
}

export function containersOf(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** Pods run as a non-root user, with no privilege escalation, privileged mode or added capabilities. */
export function podSecurityProblems(m: Manifest): string[] {
  const pod = podSpecOf(m.object);
  if (!pod) return [];
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID) problems.push(`${label(m)} shares the host's network or PIDs`);
  for (const c of containersOf(pod)) {
    const context = c.securityContext ?? {};
    const nonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
    const uid = context.runAsUser ?? podContext.runAsUser;
    if (nonRoot !== true) problems.push(`${label(m)} ${c.name}: runAsNonRoot is not true`);
    if (uid === 0) problems.push(`${label(m)} ${c.name}: runAsUser is 0`);
    if (context.privileged) problems.push(`${label(m)} ${c.name}: privileged`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${label(m)} ${c.name}: allowPrivilegeEscalation is not false`);
    if (!context.capabilities?.drop?.includes('ALL')) problems.push(`${label(m)} ${c.name}: capabilities do not drop ALL`);
    if ((context.capabilities?.add ?? []).length > 0) problems.push(`${label(m)} ${c.name}: adds capabilities`);
  }
  return problems;
}

function portNames(c: Container): Array<string | number> {
  return (c.ports ?? []).flatMap((p) => [p.containerPort, ...(p.name ? [p.name] : [])]);
}

/**
 * Every Deployment container has a readiness probe; a container that serves a port has HTTP
 * readiness and liveness probes on one of its declared ports.
 */
export function probeProblems(m: Manifest): string[] {
  if (m.object.kind !== 'Deployment') return [];
  const pod = podSpecOf(m.object);
  if (!pod) return [`${label(m)} has no pod template`];
  const problems: string[] = [];
  for (const c of pod.containers) {
    if (!c.readinessProbe) problems.push(`${label(m)} ${c.name}: no readinessProbe`);
    if ((c.ports ?? []).length === 0) continue;
    for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
      const probe = c[kind];
      if (!probe?.httpGet) problems.push(`${label(m)} ${c.name}: serves a port but has no HTTP ${kind}`);
      else if (!portNames(c).includes(probe.httpGet.port ?? '')) {
        problems.push(`${label(m)} ${c.name}: ${kind} port ${probe.httpGet.port} is not a container port`);
      }
    }
  }
  return problems;
}

/** Secrets in the repository hold no real value: each is empty or an `<angle-bracket placeholder>`. */
export function secretValueProblems(m: Manifest): string[] {
  if (m.object.kind !== 'Secret') return [];
  const problems: string[] = [];
  for (const field of ['data', 'stringData'] as const) {
    for (const [key, value] of Object.entries(m.object[field] ?? {})) {
      const text = value === null || value === undefined ? '' : String(value);
      if (text !== '' && !/^<[^<>]*>$/.test(text)) problems.push(`${label(m)}: ${field}.${key} carries a value`);
    }
  }
  return problems;
}

/** The labels a workload's pod template gives its pods. */
export function podLabelsOf(object: K8sObject): Record<string, string> {
  const template = object.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined;
  return template?.metadata?.labels ?? {};
}

/** A workload's `spec.selector.matchLabels` (the live object, so a test can edit it). */
export function matchLabelsOf(object: K8sObject): Record<string, string> {
  const selector = object.spec?.selector as { matchLabels?: Record<string, string> } | undefined;
  return selector?.matchLabels ?? {};
}

/** A selector's labels, all present on the pod template. */
export function selectorProblems(m: Manifest): string[] {
  if (!podSpecOf(m.object) || m.object.kind === 'Job') return [];
  const selector = matchLabelsOf(m.object);
  const labels = podLabelsOf(m.object);
  if (Object.keys(selector).length === 0) return [`${label(m)}: empty selector`];
  return Object.entries(selector)
    .filter(([k, v]) => labels[k] !== v)
    .map(([k, v]) => `${label(m)}: selector ${k}=${v} does not match the pod template`);
}
