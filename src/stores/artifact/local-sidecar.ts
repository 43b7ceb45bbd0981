/**
 * The local artifact store's sidecars: `.meridian-meta-<name>.json` beside each file, recording its
 * sha256, size and inode, and the temp sidecars of puts that have not renamed theirs into place yet.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RESERVED_SEGMENT_PREFIX } from './artifact-path.js';
import type { ContentDigest } from './hashing.js';
import { TMP_PREFIX } from './local-files.js';
import type { ArtifactInfo } from './port.js';

export const META_PREFIX = `${RESERVED_SEGMENT_PREFIX}meta-`;
export const META_SUFFIX = '.json';

/** What a sidecar records about its artifact file. */
export interface Sidecar extends ContentDigest {
  path: string;
  ino: string;
  updatedAt: string;
  contentType?: string;
}

/** The temp sidecar, written by a put that has not renamed it yet, for the file with inode `ino`. */
export async function pendingSidecar(dir: string, path: string, ino: string): Promise<Sidecar | null> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(TMP_PREFIX) || !name.endsWith(META_SUFFIX)) continue;
    const text = await readFile(join(dir, name), 'utf8').catch(() => null);
    const sidecar = text === null ? null : parseSidecar(text);
    if (sidecar?.ino === ino && (sidecar as { path?: unknown }).path === path) return { ...sidecar, path };
  }
  return null;
}

/** Where the sidecar of an artifact file lives: beside it, under a reserved name. */
export function sidecarFor(file: string): string {
  return join(dirname(file), `${META_PREFIX}${basename(file)}${META_SUFFIX}`);
}

/** A sidecar's fields when its text is a valid sidecar, else null. */
export function parseSidecar(text: string): Omit<Sidecar, 'path'> | null {
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

/** The ArtifactInfo a sidecar describes. */
export function toInfo(sidecar: Sidecar): ArtifactInfo {
  return {
    path: sidecar.path,
    size: sidecar.size,
    sha256: sidecar.sha256,
    updatedAt: new Date(sidecar.updatedAt),
  };
}
