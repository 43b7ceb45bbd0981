/**
 * The production alias in the artifact store: besides its immutable `Model_{name}/v{version}/` files,
 * the production version's files are copied to `Model_{name}/{file}_Production`, and the previous
 * production version's to `Model_{name}/{file}`, so tools that read the store directly find them.
 * The registry stays the source of truth: these copies only follow it.
 */
import { MeridianError } from '../core/errors.js';
import type { ArtifactStore } from '../stores/artifact/port.js';
import type { ModelVersion } from './model-version.js';
import { modelFolder } from './registry-artifacts.js';

const SUFFIX = '_Production';

/** The file name of a version's model file, whatever folder layout it was registered under. */
const fileOf = (version: ModelVersion): string =>
  version.artifactPath.slice(version.artifactPath.lastIndexOf('/') + 1);

/** Where the production alias of a version's file lives. */
export const productionAliasOf = (version: ModelVersion): string =>
  `${modelFolder(version.name)}${fileOf(version)}${SUFFIX}`;

/** Where the copy of a formerly-production version's file lives. */
export const previousAliasOf = (version: ModelVersion): string =>
  `${modelFolder(version.name)}${fileOf(version)}`;

/**
 * Makes the alias follow a production change from `previous` to `next` (either absent: no production
 * version before or after). The previous files are copied unsuffixed first, then the next files get
 * the suffix (overwriting an alias of the same file name), then any other `_Production` blob of the
 * model is removed, so exactly one set (or none) carries the suffix.
 */
export async function publishProductionAlias(
  artifacts: ArtifactStore,
  name: string,
  previous: ModelVersion | undefined,
  next: ModelVersion | undefined,
): Promise<void> {
  if (previous && previous.version !== next?.version)
    await copyVerified(artifacts, previous, previousAliasOf(previous));
  if (next) await copyVerified(artifacts, next, productionAliasOf(next));
  const keep = next ? productionAliasOf(next) : undefined;
  const folder = modelFolder(name);
  for (const blob of await artifacts.list(folder)) {
    const direct = !blob.path.slice(folder.length).includes('/');
    if (direct && blob.path.endsWith(SUFFIX) && blob.path !== keep) await artifacts.delete(blob.path);
  }
}

/** Streams a version's file to `target`; DATA_CORRUPT unless the copy has the registered SHA-256. */
async function copyVerified(artifacts: ArtifactStore, version: ModelVersion, target: string): Promise<void> {
  const copied = await artifacts.put(target, await artifacts.get(version.artifactPath), {
    contentType: 'application/octet-stream',
  });
  if (copied.sha256 !== version.sha256) {
    throw new MeridianError(
      'DATA_CORRUPT',
      `the model file of model "${version.name}" version ${version.version} (${version.artifactPath}) has SHA-256 ${copied.sha256}, not the registered ${version.sha256}; push the model again as a new version`,
      { name: version.name, version: version.version, artifactPath: version.artifactPath },
    );
  }
}
