// Content-addressed weights store: a validated model folder's kept files (the ones the runtime
// reads, MODEL_FOLDER_FILES) are copied under <dataDir>/weights/<folder sha256>. The folder sha256
// covers every kept file (sha256sum-style manifest), so no stored byte escapes a hash; the weights
// sha256 the API, receipts and the chain carry stays the decoder file's own hash.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256File, type ValidatedModel } from '../runtime/index.js';
import { validateModelFolderIsolated } from '../runtime/model-validation-process.js';
import { ModelLoadError } from '../runtime/runtime-errors.js';

export interface CheckedModel {
  sourceDir: string;
  model: ValidatedModel;
  /** sha256 of the manifest of every kept file; the store folder's name. */
  folderSha256: string;
}

export interface StoredModel extends CheckedModel {
  path: string;
}

async function exists(path: string) {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** sha256 over `<sha256>  <path>\n` lines of the kept files, sorted by path. */
async function folderSha256(dir: string, files: readonly string[]): Promise<{ digest: string; hashes: Map<string, string> }> {
  const hashes = new Map<string, string>();
  for (const file of [...files].sort()) hashes.set(file, await sha256File(join(dir, file)));
  const manifest = [...hashes].map(([file, sha]) => `${sha}  ${file}\n`).join('');
  return { digest: createHash('sha256').update(manifest).digest('hex'), hashes };
}

/** Validates `sourceDir` in the bounded validation process and hashes the files it keeps. */
export async function checkModelFolder(sourceDir: string): Promise<CheckedModel> {
  const model = await validateModelFolderIsolated(sourceDir);
  const { digest, hashes } = await folderSha256(sourceDir, model.keptFiles);
  if (hashes.get(model.onnxFile) !== model.weightsSha256) throw new ModelLoadError(`${model.onnxFile} changed while it was validated`);
  return { sourceDir, model, folderSha256: digest };
}

export function storePathFor(dataDir: string, checked: CheckedModel): string {
  return join(dataDir, 'weights', checked.folderSha256);
}

/**
 * Copies a checked folder's kept files into the store. Storing the same folder twice is a no-op; a
 * half-copied folder never becomes visible (copy to a temp dir, verify, then rename).
 */
export async function placeModelFolder(checked: CheckedModel, dataDir: string): Promise<string> {
  const target = storePathFor(dataDir, checked);
  if (await exists(target)) return target;
  const root = dirname(target);
  await mkdir(root, { recursive: true });
  const temp = join(root, `.incoming-${randomBytes(6).toString('hex')}`);
  try {
    for (const file of checked.model.keptFiles) {
      await mkdir(dirname(join(temp, file)), { recursive: true });
      await copyFile(join(checked.sourceDir, file), join(temp, file));
    }
    // What is served is what was hashed.
    const copied = await folderSha256(temp, checked.model.keptFiles);
    if (copied.digest !== checked.folderSha256) throw new ModelLoadError('the model folder changed while it was stored');
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    if (!(await exists(target))) throw err;
  }
  return target;
}

export async function storeModelFolder(sourceDir: string, dataDir: string): Promise<StoredModel> {
  const checked = await checkModelFolder(sourceDir);
  return { ...checked, path: await placeModelFolder(checked, dataDir) };
}
