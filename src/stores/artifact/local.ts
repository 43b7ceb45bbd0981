/**
 * Artifact store on a local directory. Each artifact is a plain file at its path under the root, so the
 * tree can be browsed and backed up as it is. Beside it, `.meridian-meta-<name>.json` records its
 * sha256, size and inode. Both are written to temp files in the same directory and renamed into place,
 * content first: a reader never sees half a file, and a failed put leaves nothing behind.
 *
 * The inode ties a sidecar to the exact file it describes. A reader opens the file and takes the sidecar
 * with that file's inode: the one in place, or else the temp sidecar of a put that has renamed its
 * content but not yet its sidecar (racing it, or crashed between the two renames). So a good file is
 * never reported against another version's hash. Puts and deletes of one path are serialised within
 * the process, so two puts cannot pair one's content with the other's sidecar.
 */
import { constants } from 'node:fs';
import { access, type FileHandle, mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { sleep } from '../../core/clock.js';
import { MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import { RESERVED_SEGMENT_PREFIX, validateArtifactPath, validateArtifactPrefix } from './artifact-path.js';
import { bodyToReadable, collect, validateContentType } from './body.js';
import { verified } from './hashing.js';
import { openIfPresent, removeFile, syncDir, writeSynced, writeTemp } from './local-files.js';
import {
  META_PREFIX,
  META_SUFFIX,
  parseSidecar,
  pendingSidecar,
  type Sidecar,
  sidecarFor,
  toInfo,
} from './local-sidecar.js';
import type { ArtifactBody, ArtifactInfo, ArtifactStore } from './port.js';

/** How often a reader that raced an overwrite looks again before trusting the hash check alone. */
const RACE_RETRIES = 5;

/** The rename steps of puts and deletes under way in this process, by absolute file path. */
const pathQueues = new Map<string, Promise<void>>();

/** Runs fn after every earlier step on the same file has finished. */
async function serialised<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const previous = pathQueues.get(file) ?? Promise.resolve();
  const run = previous.then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  pathQueues.set(file, tail);
  void tail.then(() => {
    if (pathQueues.get(file) === tail) pathQueues.delete(file);
  });
  return run;
}

/** Opens (creating if needed) an artifact store rooted at `root`; STORE_UNAVAILABLE if it cannot be written. */
export async function openLocalArtifactStore(directory: string): Promise<ArtifactStore> {
  const root = resolve(directory);
  const store = new LocalArtifactStore(root);
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw storeUnavailable('artifact', store.description, `creating the directory ${root}`, err);
  }
  await store.ping();
  return store;
}

class LocalArtifactStore implements ArtifactStore {
  readonly description: string;
  private closed = false;

  constructor(private readonly root: string) {
    this.description = `file:${root}`;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      if (!(await stat(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
      await access(this.root, constants.W_OK);
    } catch (err) {
      throw storeUnavailable('artifact', this.description, `writing to the directory ${this.root}`, err);
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
    const target = this.fileFor(path);
    let tmp: string | undefined;
    try {
      const written = await writeTemp(dirname(target), source);
      tmp = written.tmp;
      const sidecar: Sidecar = {
        path,
        ...written.digest,
        ino: written.ino,
        updatedAt: new Date().toISOString(),
      };
      if (contentType) sidecar.contentType = contentType;
      await writeSynced(`${tmp}${META_SUFFIX}`, JSON.stringify(sidecar));
      const content = tmp;
      await serialised(target, async () => {
        await rename(content, target);
        await rename(`${content}${META_SUFFIX}`, sidecarFor(target));
      });
      await syncDir(dirname(target));
      return toInfo(sidecar);
    } catch (err) {
      source.destroy();
      if (tmp) await Promise.all([rm(tmp, { force: true }), rm(`${tmp}${META_SUFFIX}`, { force: true })]);
      throw this.fsError(err, `writing ${path}`, path);
    }
  }

  async get(path: string): Promise<Readable> {
    this.assertOpen();
    validateArtifactPath(path);
    const target = this.fileFor(path);
    for (let attempt = 0; ; attempt++) {
      const handle = await openIfPresent(target).catch((err) =>
        Promise.reject(this.fsError(err, `reading ${path}`, path)),
      );
      const found = await this.matchingSidecar(target, path, handle).catch(async (err) => {
        await handle?.close();
        throw err;
      });
      if (handle && found.sidecar && (found.matches || attempt >= RACE_RETRIES)) {
        // Past the retries the file is not the one any sidecar describes: the hash check reports it.
        return verified(handle.createReadStream(), found.sidecar, path);
      }
      await handle?.close();
      // No sidecar means deleted (a delete removes the sidecar first); no file, mid-delete too.
      if (!found.sidecar || attempt >= RACE_RETRIES) throw notFound(path);
      await sleep(2 ** attempt);
    }
  }

  /**
   * The sidecar describing the open file: the one in place if its inode matches, else a put's temp
   * sidecar with the file's inode. Without a match, the one in place (or null), and `matches` false.
   */
  private async matchingSidecar(
    target: string,
    path: string,
    handle: FileHandle | null,
  ): Promise<{ sidecar: Sidecar | null; matches: boolean }> {
    const placed = await this.readSidecar(target, path);
    if (!handle || !placed) return { sidecar: placed, matches: false };
    const ino = (await handle.stat({ bigint: true })).ino.toString();
    if (placed.ino === ino) return { sidecar: placed, matches: true };
    const pending = await pendingSidecar(dirname(target), path, ino);
    return pending ? { sidecar: pending, matches: true } : { sidecar: placed, matches: false };
  }

  async getBuffer(path: string): Promise<Buffer> {
    return collect(await this.get(path));
  }

  async stat(path: string): Promise<ArtifactInfo | null> {
    this.assertOpen();
    validateArtifactPath(path);
    const sidecar = await this.currentSidecar(this.fileFor(path), path);
    return sidecar ? toInfo(sidecar) : null;
  }

  /** The sidecar of the file now in place (see matchingSidecar); null when the artifact does not exist. */
  private async currentSidecar(target: string, path: string): Promise<Sidecar | null> {
    const handle = await openIfPresent(target).catch((err) =>
      Promise.reject(this.fsError(err, `reading ${path}`, path)),
    );
    try {
      return (await this.matchingSidecar(target, path, handle)).sidecar;
    } finally {
      await handle?.close();
    }
  }

  async list(prefix?: string): Promise<ArtifactInfo[]> {
    this.assertOpen();
    const wanted = validateArtifactPrefix(prefix);
    const dir = wanted.includes('/') ? wanted.slice(0, wanted.lastIndexOf('/')) : '';
    const found: ArtifactInfo[] = [];
    await this.collectDir(dir, wanted, found);
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(path: string): Promise<boolean> {
    this.assertOpen();
    validateArtifactPath(path);
    const target = this.fileFor(path);
    try {
      // The sidecar goes first: once it is gone the artifact is gone for every reader.
      const existed = await serialised(target, async () => {
        const had = await removeFile(sidecarFor(target));
        await removeFile(target);
        return had;
      });
      await this.pruneEmptyDirs(dirname(target));
      return existed;
    } catch (err) {
      throw this.fsError(err, `deleting ${path}`, path);
    }
  }

  private async collectDir(dir: string, prefix: string, found: ArtifactInfo[]): Promise<void> {
    const entries = await readdir(join(this.root, ...dir.split('/').filter(Boolean)), {
      withFileTypes: true,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
      throw this.fsError(err, `listing ${prefix || 'the store'}`, prefix);
    });
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory() && !name.startsWith(RESERVED_SEGMENT_PREFIX)) {
        const sub = dir ? `${dir}/${name}` : name;
        if (`${sub}/`.startsWith(prefix)) await this.collectDir(sub, prefix, found);
      } else if (entry.isFile() && name.startsWith(META_PREFIX) && name.endsWith(META_SUFFIX)) {
        const artifact = name.slice(META_PREFIX.length, -META_SUFFIX.length);
        const path = dir ? `${dir}/${artifact}` : artifact;
        if (!path.startsWith(prefix)) continue;
        const sidecar = await this.currentSidecar(this.fileFor(path), path);
        if (sidecar) found.push(toInfo(sidecar));
      }
    }
  }

  private async readSidecar(target: string, path: string): Promise<Sidecar | null> {
    let text: string;
    try {
      text = await readFile(sidecarFor(target), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return null;
      throw this.fsError(err, `reading the metadata of ${path}`, path);
    }
    const sidecar = parseSidecar(text);
    if (!sidecar) {
      throw new MeridianError(
        'DATA_CORRUPT',
        `artifact ${path} is corrupt: its metadata file ${sidecarFor(target)} is unreadable; put the artifact again`,
        { path },
      );
    }
    return { ...sidecar, path };
  }

  private async pruneEmptyDirs(dir: string): Promise<void> {
    for (let current = dir; current.length > this.root.length && current.startsWith(this.root); ) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }

  private fileFor(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed('artifact', this.description);
  }

  private fsError(err: unknown, doing: string, path: string): MeridianError {
    if (err instanceof MeridianError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
      return new MeridianError(
        'CONFLICT',
        `${doing} failed: ${path} or one of its parent names is already used the other way (file vs directory) ` +
          'in this directory store; choose a path that does not nest under an artifact or hold artifacts',
        { path },
        { cause: err },
      );
    }
    return storeUnavailable('artifact', this.description, doing, err);
  }
}

function notFound(path: string): MeridianError {
  return new MeridianError(
    'NOT_FOUND',
    `artifact ${path} does not exist; list the store to see what it holds`,
    {
      path,
    },
  );
}
