// Request validation: bodies are validated as sent (no type coercion, so "1e6" or 1.5 never become
// credits); path and query strings are coerced, since they only ever arrive as text.
import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(coerceTypes: Options['coerceTypes']) {
  const ajv = new Ajv.default({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  addFormats.default(ajv);
  return ajv;
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
