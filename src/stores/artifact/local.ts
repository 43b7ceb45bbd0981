/**
 * Artifact store on a local directory. Each artifact is a plain file at its path under the root, so the
 * tree can be browsed and backed up as it is. Beside it, `.meridian-meta-<name>.json` records its
 * sha256, size and inode. Both are written to temp files in the same directory and renamed into place,
 * content first: a reader never sees half a file, and a failed put leaves nothing behind. The inode
 * ties a sidecar to the exact file it describes, so a reader racing an overwrite retries instead of
 * reporting the new content against the old hash.
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import { RESERVED_SEGMENT_PREFIX, validateArtifactPath, validateArtifactPrefix } from './artifact-path.js';
import { bodyToReadable, collect, validateContentType } from './body.js';
import { type ContentDigest, verified } from './hashing.js';
import { openIfPresent, removeFile, syncDir, writeSynced, writeTemp } from './local-files.js';
import type { ArtifactBody, ArtifactInfo, ArtifactStore } from './port.js';

const META_PREFIX = `${RESERVED_SEGMENT_PREFIX}meta-`;
const META_SUFFIX = '.json';
/** How often a reader that raced an overwrite looks again before trusting the hash check alone. */
const RACE_RETRIES = 5;

interface Sidecar extends ContentDigest {
  path: string;
  ino: string;
  updatedAt: string;
  contentType?: string;
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
      await rename(tmp, target);
      await rename(`${tmp}${META_SUFFIX}`, sidecarFor(target));
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
      const sidecar = await this.readSidecar(target, path);
      if (!sidecar) throw notFound(path);
      const handle = await openIfPresent(target).catch((err) =>
        Promise.reject(this.fsError(err, `reading ${path}`, path)),
      );
      const ino = handle ? (await handle.stat({ bigint: true })).ino.toString() : null;
      if (handle && (ino === sidecar.ino || attempt >= RACE_RETRIES)) {
        return verified(handle.createReadStream(), sidecar, path);
      }
      await handle?.close();
      if (attempt >= RACE_RETRIES) throw notFound(path);
      await sleep(2 ** attempt);
    }
  }

  async getBuffer(path: string): Promise<Buffer> {
    return collect(await this.get(path));
  }

  async stat(path: string): Promise<ArtifactInfo | null> {
    this.assertOpen();
    validateArtifactPath(path);
    const sidecar = await this.readSidecar(this.fileFor(path), path);
    return sidecar ? toInfo(sidecar) : null;
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
      const existed = await removeFile(sidecarFor(target));
      await removeFile(target);
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
        const sidecar = await this.readSidecar(this.fileFor(path), path);
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

function sidecarFor(file: string): string {
  return join(dirname(file), `${META_PREFIX}${basename(file)}${META_SUFFIX}`);
}

function parseSidecar(text: string): Omit<Sidecar, 'path'> | null {
  try {
    const value = JSON.parse(text) as Partial<Sidecar>;
    const valid =
      typeof value.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(value.sha256) &&
      Number.isSafeInteger(value.size) &&
      typeof value.ino === 'string' &&
      typeof value.updatedAt === 'string' &&
      !Number.isNaN(Date.parse(value.updatedAt));
    return valid ? (value as Sidecar) : null;
  } catch {
    return null;
  }
}

function toInfo(sidecar: Sidecar): ArtifactInfo {
  return {
    path: sidecar.path,
    size: sidecar.size,
    sha256: sidecar.sha256,
    updatedAt: new Date(sidecar.updatedAt),
  };
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
