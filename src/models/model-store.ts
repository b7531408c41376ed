// Content-addressed weights store: a validated model folder is copied under <dataDir>/weights/<sha256>.
import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type ValidatedModel, validateModelFolder } from '../runtime/index.js';

export interface StoredModel {
  path: string;
  model: ValidatedModel;
}

async function exists(path: string) {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Validates `sourceDir`, hashes its weights and stores it by that hash. Storing the same weights
 * twice is a no-op; a half-copied folder never becomes visible (copy to a temp dir, then rename).
 */
export async function storeModelFolder(sourceDir: string, dataDir: string): Promise<StoredModel> {
  const model = await validateModelFolder(sourceDir);
  const root = join(dataDir, 'weights');
  const target = join(root, model.weightsSha256);
  if (!(await exists(target))) {
    await mkdir(root, { recursive: true });
    const temp = join(root, `.incoming-${randomBytes(6).toString('hex')}`);
    await cp(sourceDir, temp, { recursive: true });
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      if (!(await exists(target))) throw err;
    }
  }
  // Re-validate the stored copy: what is served is what was hashed.
  return { path: target, model: await validateModelFolder(target, { expectedSha256: model.weightsSha256 }) };
}
