// Typed errors of the transformer runtime: each carries a stable `code` so the gateway's one error
// handler can map it to a problem+json body, and survives the worker-thread boundary by name.

export abstract class RuntimeError extends Error {
  abstract readonly code: string;
}

/** The weights' sha256 differs from the one the caller pinned (never a silent substitute). */
export class WeightsMismatchError extends RuntimeError {
  readonly code = 'weights_mismatch';
  constructor(
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(`weights sha256 ${actualSha256} does not match the expected ${expectedSha256}`);
    this.name = 'WeightsMismatchError';
  }
}

/** The input (plus at least one new token) does not fit the model's context window. */
export class ContextLengthError extends RuntimeError {
  readonly code = 'context_length_exceeded';
  constructor(
    readonly limit: number,
    readonly requested: number,
  ) {
    super(`input of ${requested} tokens does not fit the context length of ${limit} tokens`);
    this.name = 'ContextLengthError';
  }
}

export class InvalidParameterError extends RuntimeError {
  readonly code = 'invalid_parameter';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidParameterError';
  }
}

export class ModelLoadError extends RuntimeError {
  readonly code = 'model_load_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/** An evaluation stopped by its AbortSignal (a generation reports finishReason 'cancelled'). */
export class CancelledError extends RuntimeError {
  readonly code = 'cancelled';
  constructor(message = 'the request was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** The engine was closed, or its session thread died; pending and later calls fail with this. */
export class EngineUnavailableError extends RuntimeError {
  readonly code = 'engine_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineUnavailableError';
  }
}

/** Plain-data form of an error, for postMessage between the session thread and the main thread. */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number>;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return { name: error.name, message: error.message, fields };
}

export function deserializeError(data: SerializedError): Error {
  const f = data.fields;
  switch (data.name) {
    case 'WeightsMismatchError':
      return new WeightsMismatchError(String(f.expectedSha256), String(f.actualSha256));
    case 'ContextLengthError':
      return new ContextLengthError(Number(f.limit), Number(f.requested));
    case 'InvalidParameterError': {
      const error = new InvalidParameterError(String(f.field), '');
      error.message = data.message;
      return error;
    }
    case 'ModelLoadError':
      return new ModelLoadError(data.message);
    case 'CancelledError':
      return new CancelledError(data.message);
    default: {
      const error = new Error(data.message);
      error.name = data.name;
      return error;
    }
  }
}
