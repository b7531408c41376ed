// Validates and normalizes the public generate() parameters (defaults: greedy, seed 0, no stops).
import { InvalidParameterError } from './runtime-errors.js';

export interface GenerateRequest {
  input: string;
  maxNewTokens: number;
  /** 0 (the default) is greedy decoding; above 0 samples with the seeded PRNG. */
  temperature?: number;
  /** Keep only the k most probable tokens (0 or absent: no cut). Applies when sampling. */
  topK?: number;
  /** Nucleus: keep the most probable tokens until their mass reaches top_p (absent or 1: no cut). */
  topP?: number;
  /** Sampling seed, a non-negative safe integer (default 0): same seed, same output. */
  seed?: number;
  /** Generation stops when the text contains one of these; the stop text is not in the output. */
  stop?: string[];
}

export interface NormalizedGenerateParams {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop: string[];
}

export const MAX_STOP_SEQUENCES = 16;

export function normalizeGenerateParams(request: GenerateRequest): NormalizedGenerateParams {
  if (typeof request.input !== 'string') throw new InvalidParameterError('input', 'must be a string');
  const { maxNewTokens, temperature = 0, topK = 0, topP = 1, seed = 0, stop = [] } = request;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new InvalidParameterError('maxNewTokens', 'must be an integer >= 1');
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new InvalidParameterError('temperature', 'must be a finite number >= 0');
  }
  if (!Number.isInteger(topK) || topK < 0) throw new InvalidParameterError('topK', 'must be an integer >= 0');
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new InvalidParameterError('topP', 'must be in (0, 1]');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidParameterError('seed', 'must be a non-negative safe integer');
  if (!Array.isArray(stop) || stop.length > MAX_STOP_SEQUENCES) {
    throw new InvalidParameterError('stop', `must be an array of at most ${MAX_STOP_SEQUENCES} strings`);
  }
  stop.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0) throw new InvalidParameterError(`stop[${i}]`, 'must be a non-empty string');
  });
  return { maxNewTokens, temperature, topK, topP, seed, stop: [...stop] };
}
