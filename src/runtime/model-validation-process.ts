// Runs model validation (which builds an onnxruntime session from untrusted bytes) in a separate,
// bounded process, so a hostile graph costs the gateway nothing: address space and CPU seconds are
// capped with prlimit (RLIMIT_AS bounds onnxruntime's native allocations too, which V8 flags do
// not), the V8 heap with --max-old-space-size, and a wall-clock deadline kills it. The child gets
// no environment beyond PATH/HOME/TMPDIR and runs in the model folder.
import { spawn, spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inspectModelFolder } from './model-folder.js';
import type { ValidatedModel } from './model-validator.js';
import { ModelLoadError } from './runtime-errors.js';

export const VALIDATION_LIMITS = {
  /** Address space: a fixed base (node + onnxruntime map ~1.5 GiB before loading) plus 4× the decoder. */
  baseAddressSpaceBytes: 3 * 1024 ** 3,
  addressSpacePerDecoderByte: 4,
  cpuSeconds: 120,
  wallSeconds: 180,
  heapMiB: 512,
} as const;

export interface IsolatedValidationOptions {
  expectedSha256?: string;
  /** Overrides for tests; defaults are VALIDATION_LIMITS. */
  addressSpaceBytes?: number;
  cpuSeconds?: number;
  wallMs?: number;
}

const OUTPUT_LIMIT = 1 << 20;

let prlimitAvailable: boolean | undefined;
function hasPrlimit(): boolean {
  prlimitAvailable ??= process.platform === 'linux' && spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
  return prlimitAvailable;
}

function childCommand(dir: string, expectedSha256: string | undefined, limits: { as: number; cpu: number }): [string, string[]] {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSources ? './model-validation-child.ts' : './model-validation-child.js', import.meta.url));
  const nodeArgs = [
    `--max-old-space-size=${VALIDATION_LIMITS.heapMiB}`,
    // WebAssembly (tsx's lexer under sources) otherwise reserves ~10 GiB of guard pages, over RLIMIT_AS.
    ...(process.allowedNodeEnvironmentFlags.has('--disable-wasm-trap-handler') ? ['--disable-wasm-trap-handler'] : []),
    ...(fromSources ? ['--import', import.meta.resolve('tsx/esm')] : []),
    entry,
    dir,
    expectedSha256 ?? '',
  ];
  if (!hasPrlimit()) return [process.execPath, nodeArgs];
  return ['prlimit', [`--as=${limits.as}`, `--cpu=${limits.cpu}`, '--core=0', '--', process.execPath, ...nodeArgs]];
}

/** validateModelFolder in a bounded child process; refusals and limit breaches are ModelLoadError. */
export async function validateModelFolderIsolated(modelDir: string, options: IsolatedValidationOptions = {}): Promise<ValidatedModel> {
  // Cheap checks first, in-process (no graph is parsed here): the folder shape and the decoder size.
  const folder = await inspectModelFolder(modelDir);
  const decoderBytes = (await stat(folder.onnxPath)).size;
  const as = options.addressSpaceBytes ?? VALIDATION_LIMITS.baseAddressSpaceBytes + VALIDATION_LIMITS.addressSpacePerDecoderByte * decoderBytes;
  const cpu = options.cpuSeconds ?? VALIDATION_LIMITS.cpuSeconds;
  const wallMs = options.wallMs ?? VALIDATION_LIMITS.wallSeconds * 1000;
  const [command, args] = childCommand(folder.dir, options.expectedSha256, { as, cpu });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };

  return new Promise<ValidatedModel>((resolve, reject) => {
    const child = spawn(command, args, { cwd: folder.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += chunk.toString('utf8');
    });
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, wallMs);
    child.on('error', (error) => {
      clearTimeout(deadline);
      reject(new ModelLoadError(`could not start the validation process: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      const line = stdout.trim().split('\n').pop() ?? '';
      let result: { ok: true; model: ValidatedModel } | { ok: false; message: string } | undefined;
      try {
        result = line ? JSON.parse(line) : undefined;
      } catch {
        result = undefined;
      }
      if (result?.ok && code === 0) return resolve(result.model);
      if (result && !result.ok) return reject(new ModelLoadError(result.message));
      if (timedOut) return reject(new ModelLoadError(`validating the model took longer than ${Math.round(wallMs / 1000)} s; it was stopped`));
      if (signal === 'SIGXCPU') return reject(new ModelLoadError(`validating the model used more than ${cpu} CPU seconds; it was stopped`));
      // V8 and onnxruntime abort (SIGTRAP/SIGABRT) or fail allocations when RLIMIT_AS is reached.
      const outOfMemory = signal !== null || /out of memory|bad_alloc|allocation failed|Cannot allocate memory/i.test(stderr);
      reject(
        new ModelLoadError(
          outOfMemory
            ? `validating the model needed more than its memory limit (${Math.round(as / 1024 ** 2)} MiB of address space); it was stopped`
            : `the validation process failed (exit ${code ?? signal})`,
        ),
      );
    });
  });
}
