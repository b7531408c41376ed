// Resolves the operator token: from the environment, or generated once and kept under the data dir.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function resolveOperatorToken(
  configured: string | undefined,
  dataDir: string,
): { token: string; source: 'env' | 'file' | 'generated'; path?: string } {
  if (configured) return { token: configured, source: 'env' };
  const path = join(dataDir, 'operator-token');
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), source: 'file', path };
  mkdirSync(dataDir, { recursive: true });
  const token = `pho_${randomBytes(32).toString('base64url')}`;
  // 'wx' refuses to overwrite a token another process wrote meanwhile.
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, source: 'generated', path };
}
