/**
 * Artifact store on an Azure Blob Storage container (Azurite in tests). Each artifact is a block blob
 * named by its path, with its sha256 in the blob's metadata: the commit that makes the content visible
 * sets the hash too, and a download answers content and metadata together, so they can never disagree
 * unless someone wrote the blob behind the store's back.
 */
import { pipeline, type Readable } from 'node:stream';
import {
  type BlobDownloadResponseParsed,
  type BlobItem,
  BlobServiceClient,
  type ContainerClient,
} from '@azure/storage-blob';
import type { Logger } from 'pino';
import { MeridianError, redactUrl, storeClosed, storeUnavailable } from '../../core/errors.js';
import { validateArtifactPath, validateArtifactPrefix } from './artifact-path.js';
import { uploadBlocks } from './azure-upload.js';
import { bodyToReadable, collect, validateContentType } from './body.js';
import { HashingStream, verified } from './hashing.js';
import type { ArtifactBody, ArtifactInfo, ArtifactStore } from './port.js';

/** Three tries, at most 300 ms apart: an unreachable endpoint fails in about a second. */
const RETRY_OPTIONS = { maxTries: 3, retryDelayInMs: 300, maxRetryDelayInMs: 2_000 };
/** Limit for a request that moves no content (and for a download until its first byte). */
const CONTROL_TIMEOUT_MS = 10_000;
const LIST_PAGE_SIZE = 5_000;

/** Connects to the container (creating it if missing); STORE_UNAVAILABLE when the endpoint does not answer. */
export async function openAzureArtifactStore(
  connectionString: string,
  container: string,
  logger: Logger,
): Promise<ArtifactStore> {
  let service: BlobServiceClient;
  try {
    service = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: RETRY_OPTIONS });
  } catch (err) {
    throw new MeridianError(
      'CONFIG_INVALID',
      `azure.connectionString is not a valid Azure Storage connection string (${redactUrl(String((err as Error).message))}); ` +
        'copy it from the storage account\'s "Access keys" page',
      { field: 'azure.connectionString' },
    );
  }
  const endpoint = redactUrl(service.url.split('?')[0] ?? service.url).replace(/\/$/, '');
  const store = new AzureArtifactStore(service.getContainerClient(container), endpoint, logger);
  await store.createContainer();
  return store;
}

class AzureArtifactStore implements ArtifactStore {
  readonly description: string;
  private closed = false;

  constructor(
    private readonly container: ContainerClient,
    private readonly endpoint: string,
    private readonly logger: Logger,
  ) {
    this.description = `azure:${container.containerName}@${endpoint}`;
  }

  async createContainer(): Promise<void> {
    try {
      await this.container.createIfNotExists({ abortSignal: controlTimeout() });
    } catch (err) {
      throw this.unavailable(`creating container ${this.container.containerName}`, err);
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.container.getProperties({ abortSignal: controlTimeout() });
    } catch (err) {
      throw this.unavailable(`reading container ${this.container.containerName}`, err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async put(path: string, body: ArtifactBody, options?: { contentType?: string }): Promise<ArtifactInfo> {
    this.assertOpen();
    validateArtifactPath(path);
    const contentType = validateContentType(options);
    const source = bodyToReadable(body, path);
    const hasher = new HashingStream();
    pipeline(source, hasher, () => {});
    try {
      const headers = { blobContentType: contentType ?? 'application/octet-stream' };
      const { digest, lastModified } = await uploadBlocks(this.blob(path), hasher, hasher, headers);
      return { path, ...digest, updatedAt: lastModified };
    } catch (err) {
      hasher.destroy();
      // On a put, 404 means the container itself is gone.
      if (statusOf(err) === 404) throw this.unavailable(`writing ${path}`, err);
      throw this.failure(err, `writing ${path}`, path);
    }
  }

  async get(path: string): Promise<Readable> {
    this.assertOpen();
    validateArtifactPath(path);
    // The limit covers the wait for the answer only: clearing it lets a long download run on.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), CONTROL_TIMEOUT_MS);
    let response: BlobDownloadResponseParsed;
    try {
      response = await this.blob(path).download(0, undefined, {
        abortSignal: controller.signal,
        maxRetryRequests: 3,
      });
    } catch (err) {
      throw this.failure(err, `reading ${path}`, path);
    } finally {
      clearTimeout(timer);
    }
    const body = response.readableStreamBody as Readable | undefined;
    const sha256 = response.metadata?.sha256;
    if (!body || !sha256 || response.contentLength === undefined) {
      body?.destroy();
      throw unhashed(path);
    }
    return verified(body, { sha256, size: response.contentLength }, path);
  }

  async getBuffer(path: string): Promise<Buffer> {
    return collect(await this.get(path));
  }

  async stat(path: string): Promise<ArtifactInfo | null> {
    this.assertOpen();
    validateArtifactPath(path);
    try {
      const props = await this.blob(path).getProperties({ abortSignal: controlTimeout() });
      const sha256 = props.metadata?.sha256;
      if (!sha256) throw unhashed(path);
      return { path, size: props.contentLength ?? 0, sha256, updatedAt: props.lastModified ?? new Date(0) };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw this.failure(err, `reading the properties of ${path}`, path);
    }
  }

  async list(prefix?: string): Promise<ArtifactInfo[]> {
    this.assertOpen();
    const wanted = validateArtifactPrefix(prefix);
    const found: ArtifactInfo[] = [];
    let continuationToken: string | undefined;
    try {
      do {
        const pages = this.container
          .listBlobsFlat({
            prefix: wanted || undefined,
            includeMetadata: true,
            abortSignal: controlTimeout(),
          })
          .byPage({ maxPageSize: LIST_PAGE_SIZE, ...(continuationToken ? { continuationToken } : {}) });
        const page = (await pages.next()).value;
        for (const item of page?.segment.blobItems ?? []) {
          const info = this.toInfo(item);
          if (info) found.push(info);
        }
        continuationToken = page?.continuationToken || undefined;
      } while (continuationToken);
    } catch (err) {
      throw this.failure(err, `listing ${wanted || 'the container'}`, wanted);
    }
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(path: string): Promise<boolean> {
    this.assertOpen();
    validateArtifactPath(path);
    try {
      const response = await this.blob(path).deleteIfExists({
        deleteSnapshots: 'include',
        abortSignal: controlTimeout(),
      });
      return response.succeeded;
    } catch (err) {
      throw this.failure(err, `deleting ${path}`, path);
    }
  }

  /** Blobs that Meridian did not write (no sha256, or a name no artifact can have) are left out, with a warning. */
  private toInfo(item: BlobItem): ArtifactInfo | null {
    const sha256 = item.metadata?.sha256;
    let valid = Boolean(sha256);
    try {
      validateArtifactPath(item.name);
    } catch {
      valid = false;
    }
    if (!valid || !sha256) {
      this.logger.warn(
        { blob: item.name, store: this.description },
        'skipping a blob that is not a Meridian artifact',
      );
      return null;
    }
    const { contentLength, lastModified } = item.properties;
    return { path: item.name, size: contentLength ?? 0, sha256, updatedAt: lastModified };
  }

  private blob(path: string) {
    return this.container.getBlockBlobClient(path);
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed('artifact', this.description);
  }

  private failure(err: unknown, doing: string, path: string): MeridianError {
    if (err instanceof MeridianError) return err;
    const status = statusOf(err);
    if (status === 404) {
      return new MeridianError(
        'NOT_FOUND',
        `artifact ${path} does not exist; list the store to see what it holds`,
        {
          path,
        },
      );
    }
    if (status === 409 || status === 412) {
      return new MeridianError(
        'CONFLICT',
        `${doing} failed: another writer changed ${path} at the same time; try again`,
        {
          path,
        },
      );
    }
    if (status === undefined || status === 401 || status === 403 || status >= 500)
      return this.unavailable(doing, err);
    const code = (err as { code?: string }).code ?? 'unknown';
    return new MeridianError(
      'INTERNAL',
      `${doing} failed: Azure answered ${status} ${code}`,
      { path },
      { cause: err },
    );
  }

  private unavailable(doing: string, err: unknown): MeridianError {
    const aborted = (err as Error | undefined)?.name === 'AbortError';
    const cause = aborted ? `no answer within ${CONTROL_TIMEOUT_MS / 1000} s` : err;
    return storeUnavailable(
      'artifact',
      `${this.endpoint}/${this.container.containerName}`,
      `${doing} (${RETRY_OPTIONS.maxTries} tries)`,
      cause,
    );
  }
}

function controlTimeout(): AbortSignal {
  return AbortSignal.timeout(CONTROL_TIMEOUT_MS);
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function unhashed(path: string): MeridianError {
  return new MeridianError(
    'DATA_CORRUPT',
    `artifact ${path} has no recorded sha256: it was written outside Meridian or its metadata was replaced; put it again`,
    { path },
  );
}
