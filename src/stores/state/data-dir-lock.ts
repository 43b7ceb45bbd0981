/**
 * The lock file `<dataDir>.lock` that keeps a PGlite data directory to one process. It holds the
 * owner's pid. A lock is stale when that pid is not running, or when it is our own pid but this
 * process has not opened the directory: in a container node is PID 1 (or the same pid every start),
 * so after a SIGKILL the old lock names the new process. Taking over a stale lock moves it aside by
 * rename and checks that the file moved is the one judged stale (same inode, content and mtime), so two
 * processes taking over together cannot both end up holding it; the lock itself is created with `wx`.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isMeridianError, storeUnavailable } from '../../core/errors.js';

/** Lock files this process holds: its own pid in one of these is live, anywhere else it is stale. */
const heldLocks = new Set<string>();
const ATTEMPTS = 4;

/** Who a lock file names, and which file it is (a replaced lock has another inode or mtime). */
export interface LockSnapshot {
  owner: string;
  ino: bigint;
  mtimeNs: bigint;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Content and identity of the lock file read through one descriptor; null when there is none. */
export function snapshot(file: string): LockSnapshot | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { ino, mtimeNs } = fstatSync(fd, { bigint: true });
    return { owner: readFileSync(fd, 'utf8').trim(), ino, mtimeNs };
  } finally {
    closeSync(fd);
  }
}

function sameFile(a: LockSnapshot | null, b: LockSnapshot): boolean {
  return a !== null && a.owner === b.owner && a.ino === b.ino && a.mtimeNs === b.mtimeNs;
}

function tryCreate(lockPath: string): boolean {
  try {
    const fd = openSync(lockPath, 'wx');
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Moves the stale lock aside; if another process replaced it meanwhile, puts that fresh lock back. */
export function removeStale(lockPath: string, stale: LockSnapshot): void {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!sameFile(snapshot(aside), stale)) {
    try {
      linkSync(aside, lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  unlinkSync(aside);
}

function ownerDescription(owner: number): string {
  return owner === process.pid ? 'this process' : `process ${owner}`;
}

/** Takes `lockPath` for this process, taking over a stale one; STORE_UNAVAILABLE if a live process holds it. */
export function acquireDataDirLock(lockPath: string, description: string): void {
  if (heldLocks.has(lockPath)) {
    throw storeUnavailable('state', description, lockedMessage('this process'));
  }
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (tryCreate(lockPath)) {
        heldLocks.add(lockPath);
        return;
      }
      const current = snapshot(lockPath);
      if (!current) continue;
      const owner = Number(current.owner);
      const live = Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner);
      if (live) throw storeUnavailable('state', description, lockedMessage(ownerDescription(owner)));
      removeStale(lockPath, current);
    }
  } catch (err) {
    if (isMeridianError(err)) throw err;
    throw storeUnavailable('state', description, `taking the lock file ${lockPath}`, err);
  }
  throw storeUnavailable('state', description, `taking over the stale lock file ${lockPath}`);
}

function lockedMessage(who: string): string {
  return `locking the data directory (${who} has it open; PGlite allows one process at a time — use PostgreSQL to share state)`;
}

/** Gives the lock up: removes the file only if it is still ours. */
export function releaseDataDirLock(lockPath: string): void {
  if (!heldLocks.delete(lockPath)) return;
  try {
    if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}
