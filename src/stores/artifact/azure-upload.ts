/**
 * Streams a body into a block blob: fixed-size blocks staged a few at a time while the body is hashed,
 * then one commit that sets the content and its sha256 metadata together. Memory stays at
 * (UPLOAD_CONCURRENCY + 1) blocks whatever the size of the body: block buffers are reused once staged.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobHTTPHeaders, BlockBlobClient } from '@azure/storage-blob';
import type { ContentDigest, HashingStream } from './hashing.js';

/** 4 MiB blocks: 50,000 of them (Azure's cap per blob) hold 195 GiB. */
export const BLOCK_SIZE = 4 * 1024 * 1024;
export const UPLOAD_CONCURRENCY = 4;
/** A single block or commit that takes longer than this is treated as a dead connection. */
const REQUEST_TIMEOUT_MS = 120_000;

export interface Uploaded {
  digest: ContentDigest;
  lastModified: Date;
}

/** Uploads `hashed` (the readable side of `hasher`) to `blob` and commits it with its sha256. */
export async function uploadBlocks(
  blob: BlockBlobClient,
  hashed: Readable,
  hasher: HashingStream,
  headers: BlobHTTPHeaders,
): Promise<Uploaded> {
  const stager = new BlockStager(blob);
  let block = stager.take();
  let filled = 0;
  try {
    for await (const chunk of hashed as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const copied = chunk.copy(block, filled, offset);
        filled += copied;
        offset += copied;
        if (filled === BLOCK_SIZE) {
          await stager.stage(block, filled);
          block = stager.take();
          filled = 0;
        }
      }
    }
  } finally {
    await stager.settle();
  }
  const digest = hasher.digest();
  const options = { blobHTTPHeaders: headers, metadata: { sha256: digest.sha256 }, abortSignal: timeout() };
  if (stager.ids.length === 0) {
    const response = await blob.upload(block.subarray(0, filled), filled, options);
    return { digest, lastModified: response.lastModified ?? new Date() };
  }
  if (filled > 0) await stager.stage(block, filled);
  await stager.settle();
  const response = await blob.commitBlockList(stager.ids, { ...options, abortSignal: timeout() });
  return { digest, lastModified: response.lastModified ?? new Date() };
}

/** Stages blocks with at most UPLOAD_CONCURRENCY in flight and remembers their ids in order. */
class BlockStager {
  readonly ids: string[] = [];
  private readonly pool: Buffer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  // Ids of one upload share a random stem, so a concurrent put to the same blob never reuses them.
  private readonly stem = randomBytes(6).toString('hex');
  private failure: unknown = null;

  constructor(private readonly blob: BlockBlobClient) {}

  take(): Buffer {
    return this.pool.pop() ?? Buffer.allocUnsafe(BLOCK_SIZE);
  }

  /** Starts staging the block; resolves once there is room for another; rejects with the first failure. */
  async stage(block: Buffer, length: number): Promise<void> {
    this.throwIfFailed();
    const id = Buffer.from(`${this.stem}-${String(this.ids.length).padStart(6, '0')}`).toString('base64');
    this.ids.push(id);
    const request = this.blob
      .stageBlock(id, block.subarray(0, length), length, { abortSignal: timeout() })
      .then(
        () => {
          this.pool.push(block);
        },
        (err: unknown) => {
          this.failure ??= err;
        },
      )
      .finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
    while (this.inFlight.size >= UPLOAD_CONCURRENCY) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  /** Waits for every staged block; rejects with the first failure. */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

function timeout(): AbortSignal {
  return AbortSignal.timeout(REQUEST_TIMEOUT_MS);
}
