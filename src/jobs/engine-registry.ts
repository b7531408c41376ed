// Keeps one inference engine per model weights in a worker; an engine loads (and hashes) its
// weights once and refuses weights whose sha256 differs from the registry's.
import { createInferenceEngine, type InferenceEngine } from '../runtime/index.js';

export interface EngineSource {
  storagePath: string;
  weightsSha256: string;
}

export interface EngineRegistry {
  get(model: EngineSource): Promise<InferenceEngine>;
  close(): Promise<void>;
}

export function createEngineRegistry(options: {
  threads: number;
  batchMax: number;
  batchWaitMs: number;
  /** Fault injection only: a cheating worker that serves this folder for every model, unchecked. */
  faultServeModelDir?: string;
}): EngineRegistry {
  const engines = new Map<string, Promise<InferenceEngine>>();
  return {
    get(model) {
      const key = `${model.weightsSha256}:${model.storagePath}`;
      let engine = engines.get(key);
      if (!engine) {
        const cheat = options.faultServeModelDir;
        engine = createInferenceEngine({
          modelDir: cheat ?? model.storagePath,
          expectedSha256: cheat ? undefined : model.weightsSha256,
          threads: options.threads,
          maxBatch: options.batchMax,
          maxWaitMs: options.batchWaitMs,
        });
        // A failed load is not cached: the next job tries again (the file may be restored).
        engine.catch(() => engines.delete(key));
        engines.set(key, engine);
      }
      return engine;
    },
    async close() {
      const all = [...engines.values()];
      engines.clear();
      await Promise.allSettled(all.map(async (e) => (await e).close()));
    },
  };
}
