// What an API key may do; routes name the scope they need.
export const SCOPES = ['infer', 'evaluate', 'finetune', 'publish', 'keys'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes of an operator-issued key when none are asked for: uploading models must be granted explicitly. */
export const DEFAULT_SCOPES: Scope[] = ['infer', 'evaluate', 'finetune', 'keys'];
