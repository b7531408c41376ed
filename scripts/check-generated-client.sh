#!/usr/bin/env bash
# CI: a client generated from openapi/openapi.json still works. openapi-typescript generates the
# types into a temporary folder; they must equal the committed src/client/openapi-types.ts (`npm run
# openapi` writes both); every operation of the document must be called in
# scripts/client-check/every-operation.ts, which is type-checked against them with openapi-fetch.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx openapi-typescript openapi/openapi.json --default-non-nullable false --output "$tmp/openapi-types.ts" >/dev/null
if ! diff -q "$tmp/openapi-types.ts" src/client/openapi-types.ts >/dev/null; then
  diff -u src/client/openapi-types.ts "$tmp/openapi-types.ts" | head -40 >&2 || true
  echo "src/client/openapi-types.ts differs from what openapi-typescript generates: run npm run openapi and commit the result" >&2
  exit 1
fi
node -e '
const fs = require("node:fs");
const doc = JSON.parse(fs.readFileSync("openapi/openapi.json", "utf8"));
const program = fs.readFileSync("scripts/client-check/every-operation.ts", "utf8");
const missing = [];
for (const [path, item] of Object.entries(doc.paths)) for (const method of Object.keys(item)) {
  if (!program.includes(`.${method.toUpperCase()}(\x27${path}\x27`)) missing.push(`${method.toUpperCase()} ${path} (${item[method].operationId})`);
}
if (missing.length) { console.error("scripts/client-check/every-operation.ts does not call:\n  " + missing.join("\n  ")); process.exit(1); }
console.log(`every one of ${Object.values(doc.paths).reduce((n, i) => n + Object.keys(i).length, 0)} operations is called`);
'
npx tsc -p scripts/client-check/tsconfig.json
echo "the generated client type-checks"
