import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, releaseDataDirLock, removeStale, snapshot } from './data-dir-lock.js';

describe('data directory lock', () => {
  let dir: string;
  let lock: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-lock-'));
    lock = join(dir, 'state.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes a stale lock that is still the file judged stale', () => {
    writeFileSync(lock, '2147483646');
    removeStale(lock, snapshot(lock)!);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('puts back a fresh lock that another process wrote after this one judged the old lock stale', () => {
    writeFileSync(lock, '2147483646');
    const stale = snapshot(lock)!;
    rmSync(lock);
    writeFileSync(lock, String(process.ppid));
    removeStale(lock, stale);
    expect(readdirSync(dir)).toEqual(['state.lock']);
    expect(readFileSync(lock, 'utf8')).toBe(String(process.ppid));
  });

  it('takes a lock naming this process when this process does not hold it, refuses it while held, and releases only its own', () => {
    writeFileSync(lock, String(process.pid));
    acquireDataDirLock(lock, 'pglite:test');
    expect(() => acquireDataDirLock(lock, 'pglite:test')).toThrow(/this process has it open/);
    releaseDataDirLock(lock);
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(lock, String(process.ppid));
    releaseDataDirLock(lock);
    expect(readFileSync(lock, 'utf8')).toBe(String(process.ppid));
  });
});
