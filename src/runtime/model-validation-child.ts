// Entry of the bounded model-validation process: validates one folder and prints the result (or
// the refusal) as one JSON line on stdout. Started only by model-validation-process.ts.
import { validateModelFolder } from './model-validator.js';

const [dir, expectedSha256] = process.argv.slice(2);
try {
  const model = await validateModelFolder(dir, { expectedSha256: expectedSha256 || undefined });
  process.stdout.write(`${JSON.stringify({ ok: true, model })}\n`);
} catch (error) {
  const e = error as Error;
  process.stdout.write(`${JSON.stringify({ ok: false, name: e.name, message: e.message })}\n`);
  process.exitCode = 1;
}
