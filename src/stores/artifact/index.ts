/** Chooses the artifact store named by the `artifactStore` setting. */
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeridianError } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { openAzureArtifactStore } from './azure.js';
import { openLocalArtifactStore } from './local.js';
import type { ArtifactStore } from './port.js';

export type { ArtifactBody, ArtifactInfo, ArtifactStore } from './port.js';

const FORMS = '`file` (under the data directory), `file:/absolute/path` or `azure:<container>`';
// Azure's rule: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
const CONTAINER = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** Opens the artifact store for `url`: `file`, `file:/some/path` or `azure:<container>`. */
export async function createArtifactStore(url: string, ctx: StoreContext): Promise<ArtifactStore> {
  if (url === 'file') return openLocalArtifactStore(join(ctx.dataDir, 'artifacts'));
  if (url.startsWith('file:')) return openLocalArtifactStore(localPath(url));
  if (url.startsWith('azure:')) {
    const container = url.slice('azure:'.length);
    if (!CONTAINER.test(container)) {
      throw configInvalid(
        `artifactStore ${JSON.stringify(url)} names an invalid container; a container name is 3-63 lowercase ` +
          'letters, digits and single hyphens, e.g. azure:meridian-artifacts',
      );
    }
    if (!ctx.azureConnectionString) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `artifactStore ${url} needs azure.connectionString: set it in meridian.yaml or the ` +
          'MERIDIAN_AZURE_CONNECTION_STRING (or AZURE_STORAGE_CONNECTION_STRING) environment variable',
        { field: 'azure.connectionString', hint: 'set MERIDIAN_AZURE_CONNECTION_STRING' },
      );
    }
    return openAzureArtifactStore(ctx.azureConnectionString, container, ctx.logger);
  }
  throw configInvalid(`artifactStore ${JSON.stringify(url)} is not a known artifact store; use ${FORMS}`);
}

function localPath(url: string): string {
  let path: string;
  try {
    path = url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length);
  } catch (err) {
    throw configInvalid(
      `artifactStore ${JSON.stringify(url)} is not a usable file URL (${(err as Error).message}); use ${FORMS}`,
    );
  }
  if (!isAbsolute(path)) {
    throw configInvalid(
      `artifactStore ${JSON.stringify(url)} does not name an absolute directory; use ${FORMS}`,
    );
  }
  return path;
}

function configInvalid(message: string): MeridianError {
  return new MeridianError('CONFIG_INVALID', message, { field: 'artifactStore', hint: `use ${FORMS}` });
}
