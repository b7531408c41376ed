// Shapes the generated OpenAPI document for code generators: every schema with a `title` becomes a
// named component referenced everywhere it appears (so clients get `Job`, not 16 anonymous copies),
// fields and parameters that have a default are not required (the validator fills them in), and
// every operation states its security (`[]` for public ones).

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys whose values are data (examples), not schemas: never walked. */
const DATA_KEYS = new Set(['example', 'examples', 'default', 'const', 'enum', 'x-enum-descriptions']);

function withoutExamples(schema: Json): string {
  const { examples: _e, example: _x, ...rest } = schema;
  return JSON.stringify(rest);
}

/** Properties with a default are filled in by validation when absent, so they are not required. */
function relaxDefaults(schema: Json) {
  const props = schema.properties;
  if (!Array.isArray(schema.required) || !isObject(props)) return;
  const required = schema.required.filter((name) => !(isObject(props[name]) && (props[name] as Json).default !== undefined));
  if (required.length > 0) schema.required = required;
  else delete schema.required;
}

/** Replaces titled schemas under `node` (deepest first) with references to components. */
function hoist(node: unknown, components: Record<string, Json>, top: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => hoist(item, components, false));
  if (!isObject(node)) return node;
  for (const [key, value] of Object.entries(node)) {
    if (!DATA_KEYS.has(key)) node[key] = hoist(value, components, false);
  }
  relaxDefaults(node);
  const title = node.title;
  if (top || typeof title !== 'string' || !('type' in node || 'anyOf' in node || 'oneOf' in node || 'allOf' in node)) return node;
  const existing = components[title];
  if (existing && withoutExamples(existing) !== withoutExamples(node)) {
    throw new Error(`OpenAPI: two different schemas are titled "${title}"; give one another title`);
  }
  // The copy used as a request or response body lost its examples to the media type: keep them.
  if (!existing || (existing.examples === undefined && node.examples !== undefined)) components[title] = node;
  return { $ref: `#/components/schemas/${title}` };
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, Json>>;
  components?: { schemas?: Record<string, Json> };
  [key: string]: unknown;
}

export function shapeDocument<T extends OpenApiDocument>(doc: T): T {
  doc.components ??= {};
  doc.components.schemas ??= {};
  const components = doc.components.schemas;
  for (const [name, schema] of Object.entries(components)) components[name] = hoist(schema, components, true) as Json;
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item)) {
      operation.security ??= [];
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        if (parameter.in !== 'path' && isObject(parameter.schema) && parameter.schema.default !== undefined) parameter.required = false;
        parameter.schema = hoist(parameter.schema, components, false);
      }
      operation.requestBody = hoist(operation.requestBody, components, false);
      operation.responses = hoist(operation.responses, components, false);
    }
  }
  // Components hoisted while walking the paths may hold titled schemas of their own.
  for (const [name, schema] of Object.entries(components)) components[name] = hoist(schema, components, true) as Json;
  doc.components.schemas = Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
  return doc;
}
