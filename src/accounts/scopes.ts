// What an API key may do; routes name the scope they need.
export const SCOPES = ['infer', 'evaluate', 'finetune', 'publish', 'keys'] as const;
export type Scope = (typeof SCOPES)[number];
