/** The file-system steps of the local artifact store: temp files written, synced and removed safely. */
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { RESERVED_SEGMENT_PREFIX } from './artifact-path.js';
import { type ContentDigest, HashingStream } from './hashing.js';

/** Temp files start with this: never an artifact name, never listed. */
export const TMP_PREFIX = `${RESERVED_SEGMENT_PREFIX}tmp-`;

/** Streams the source into a new temp file in dir (created if needed), hashing on the way and syncing at the end. */
export async function writeTemp(
  dir: string,
  source: Readable,
): Promise<{ tmp: string; digest: ContentDigest; ino: string }> {
  const { tmp, handle } = await createTemp(dir);
  try {
    const hasher = new HashingStream();
    // Errors of the source surface while iterating the hasher; the callback only keeps them from being thrown twice.
    pipeline(source, hasher, () => {});
    for await (const chunk of hasher as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        offset += (await handle.write(chunk, offset)).bytesWritten;
      }
    }
    await handle.sync();
    const { ino } = await handle.stat({ bigint: true });
    return { tmp, digest: hasher.digest(), ino: ino.toString() };
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Creates dir if needed and a new, exclusively opened temp file in it. */
async function createTemp(dir: string): Promise<{ tmp: string; handle: FileHandle }> {
  // A concurrent delete may prune the directory between mkdir and open: make it again.
  for (let attempt = 0; ; attempt++) {
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      return { tmp, handle: await open(tmp, 'wx') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/** Writes a small new file and syncs it before resolving. */
export async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the renames durable; some platforms cannot open a directory, where this is a no-op. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle
    .sync()
    .catch(() => {})
    .finally(() => handle.close());
}

/** Opens a file for reading; null when it does not exist. */
export async function openIfPresent(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Unlinks a file; false when there was none (a directory in its place counts as none). */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ERR_FS_EISDIR' || code === 'EISDIR')
      return false;
    throw err;
  }
}
