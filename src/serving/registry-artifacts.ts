/**
 * The model files behind registry versions: checking a pushed file by loading it with its runtime,
 * where a version's file lives in the artifact store, storing it immutably, and reading it back
 * verified against the SHA-256 registered at push time.
 */
import { createHash } from 'node:crypto';
import { isMeridianError, MeridianError } from '../core/errors.js';
import type { ArtifactInfo, ArtifactStore } from '../stores/artifact/port.js';
import type { CheckedPush, ModelVersion } from './model-version.js';
import { loadModel } from './runtimes/index.js';
import type { ModelFormat, ModelSignature } from './runtimes/model.js';

const EXTENSIONS: Record<ModelFormat, string> = { onnx: 'onnx', xgboost: 'json', lightgbm: 'txt' };

/**
 * The artifact store path of a new version's model file. Versions registered before this layout
 * keep the path in their row (`models/{name}/{version}/...`): readers always use the row's path.
 */
export function artifactPathOf(name: string, version: number, format: ModelFormat): string {
  return `${modelFolder(name)}v${version}/model.${EXTENSIONS[format]}`;
}

/** The folder of a model's files, versioned and production alias alike: `Model_{name}/`. */
export const modelFolder = (name: string): string => `Model_${name}/`;

/** What storing a version's file did: stored it, found the same bytes already there, or found others. */
export type ImmutablePut =
  | { outcome: 'created'; info: ArtifactInfo }
  | { outcome: 'same'; info: ArtifactInfo }
  | { outcome: 'taken'; info: ArtifactInfo };

/**
 * Stores a version's file only where nothing is stored yet: a stored file is never overwritten.
 * The same bytes already there (a retried push whose transaction did not commit) are reused. The
 * check and the put are not one atomic step in the store; callers hold the model row's lock, which
 * every push of the model takes first, so no other push writes this path meanwhile.
 */
export async function putImmutable(
  artifacts: ArtifactStore,
  path: string,
  bytes: Uint8Array,
): Promise<ImmutablePut> {
  const existing = await artifacts.stat(path);
  if (existing) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { outcome: existing.sha256 === sha256 ? 'same' : 'taken', info: existing };
  }
  const info = await artifacts.put(path, bytes, { contentType: 'application/octet-stream' });
  return { outcome: 'created', info };
}

/** Loads the file with its runtime only to check it and read its signature; INVALID_ARGUMENT naming `file`. */
export async function signatureOf(push: CheckedPush): Promise<ModelSignature> {
  let model: Awaited<ReturnType<typeof loadModel>>;
  try {
    model = await loadModel(push.format, push.bytes);
  } catch (err) {
    if (isMeridianError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new MeridianError(
      'INVALID_ARGUMENT',
      `file: is not a valid ${push.format} model (${reason}); check the file and --format`,
      { field: 'file' },
    );
  }
  try {
    return model.signature;
  } finally {
    await model.close();
  }
}

/** The version's model file; DATA_CORRUPT when it is missing or its hash is not the one registered. */
export async function readVerifiedArtifact(
  artifacts: ArtifactStore,
  version: ModelVersion,
): Promise<Uint8Array> {
  const where = `model "${version.name}" version ${version.version} (${version.artifactPath})`;
  let bytes: Buffer;
  try {
    bytes = await artifacts.getBuffer(version.artifactPath);
  } catch (err) {
    if (!isMeridianError(err, 'NOT_FOUND')) throw err;
    throw corrupt(`the model file of ${where} is missing from the artifact store`, version);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== version.sha256) {
    throw corrupt(
      `the model file of ${where} has SHA-256 ${sha256}, not the registered ${version.sha256}`,
      version,
    );
  }
  return bytes;
}

function corrupt(message: string, version: ModelVersion): MeridianError {
  return new MeridianError('DATA_CORRUPT', `${message}; push the model again as a new version`, {
    name: version.name,
    version: version.version,
    artifactPath: version.artifactPath,
  });
}
