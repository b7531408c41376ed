// The committed OpenAPI document (CI fails when it drifts from the routes) is one a code generator
// and a person in Swagger UI can use: named components, guidance and examples on every operation
// and on every field a client sets, defaults not required, security and servers stated.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../../src/errors/error-catalog.js';

type Schema = Record<string, unknown> & {
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  examples?: unknown[];
  example?: unknown;
  description?: string;
  default?: unknown;
  anyOf?: Schema[];
  items?: Schema;
};
type Media = { schema?: Schema; example?: unknown; examples?: unknown };
type Parameter = { name: string; in: string; required?: boolean; description?: string; example?: unknown; schema?: Schema };
type Operation = {
  operationId: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
};

const doc = JSON.parse(readFileSync(new URL('../../../openapi/openapi.json', import.meta.url), 'utf8')) as {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ ...op, name: `${method.toUpperCase()} ${path}` })));
const resolve = (s: Schema | undefined): Schema | undefined => (s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : s);
/** An example on the media type, on its schema, or (a list) on the schema of its items. */
const hasExample = (media: Media | undefined) => {
  const schema = resolve(media?.schema);
  const items = resolve(resolve(schema?.properties?.data)?.items);
  return media !== undefined && (media.example !== undefined || media.examples !== undefined || schema?.examples !== undefined || items?.examples !== undefined);
};

describe('openapi/openapi.json', () => {
  it('names a component for every resource and references it instead of repeating it', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of ['Job', 'Receipt', 'Model', 'Account', 'ApiKey', 'LedgerEntry', 'Problem', 'Dataset', 'Audit', 'TreeHead']) expect(names).toContain(name);
    const text = JSON.stringify(doc.paths, (key, value) => (key === 'example' || key === 'examples' ? undefined : value));
    // Job's own fields appear in no operation: every use is a $ref.
    expect(text).not.toContain('"cancel_requested"');
    expect(text.match(/#\/components\/schemas\/Job"/g)?.length).toBeGreaterThanOrEqual(8);
  });

  it('gives every operation a description, an example and its security; and states servers', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const op of operations) {
      if (!op.description || op.description.length < 20) missing.push(`${op.name}: description`);
      if (!Array.isArray(op.security)) missing.push(`${op.name}: security`);
      const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'))?.[1];
      const examples = [
        hasExample(op.requestBody?.content['application/json']),
        ...Object.values(success?.content ?? {}).map(hasExample),
        ...(op.parameters ?? []).map((p) => p.example !== undefined),
      ];
      if (!examples.some(Boolean)) missing.push(`${op.name}: example`);
    }
    expect(missing).toEqual([]);
  });

  it('describes, and shows an example of, every field and parameter a client sets', () => {
    const missing: string[] = [];
    for (const op of operations) {
      for (const p of op.parameters ?? []) {
        if (!(p.description ?? p.schema?.description)) missing.push(`${op.name} ${p.in} ${p.name}: description`);
        if (p.example === undefined && p.schema?.examples === undefined && p.in !== 'header') missing.push(`${op.name} ${p.in} ${p.name}: example`);
      }
      const body = resolve(op.requestBody?.content['application/json']?.schema);
      for (const [field, raw] of Object.entries(body?.properties ?? {})) {
        const schema = resolve(raw) ?? {};
        if (!(raw.description ?? schema.description)) missing.push(`${op.name} body.${field}: description`);
        const example = raw.examples ?? schema.examples ?? schema.anyOf?.some((s) => resolve(s)?.examples);
        if (!example && schema.type !== 'boolean' && !schema.enum && schema.const === undefined) missing.push(`${op.name} body.${field}: example`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('never requires a parameter or a field that has a default', () => {
    const wrong: string[] = [];
    for (const op of operations) for (const p of op.parameters ?? []) if (p.required && p.schema?.default !== undefined) wrong.push(`${op.name} ${p.name}`);
    const walk = (s: unknown, where: string) => {
      if (Array.isArray(s)) {
        for (const [i, x] of s.entries()) walk(x, `${where}[${i}]`);
      }
      else if (s && typeof s === 'object') {
        const schema = s as Schema;
        for (const name of Array.isArray(schema.required) ? schema.required : []) if (schema.properties?.[name]?.default !== undefined) wrong.push(`${where}.${name}`);
        for (const [k, v] of Object.entries(schema)) if (k !== 'examples' && k !== 'example') walk(v, `${where}.${k}`);
      }
    };
    walk(doc, '#');
    expect(wrong).toEqual([]);
  });

  it('lists Problem.code as one enum of the catalog, each code with its meaning', () => {
    const code = doc.components.schemas.Problem.properties!.code as Schema & { enum: string[]; 'x-enum-descriptions': string[] };
    expect(code.anyOf).toBeUndefined();
    expect(code.enum).toEqual(Object.keys(ERROR_CATALOG));
    expect(code['x-enum-descriptions']).toHaveLength(code.enum.length);
    expect(code.description).toContain('`insufficient_credit` (402)');
  });
});
