import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { StoreContext } from '../../src/stores/store.js';
import { rejection } from '../helpers/errors.js';
import { tempStoreDir } from '../helpers/servers.js';
import { type OfflineHarness, offlineStoreConformance } from './offline.js';

const ctx = (dataDir: string): StoreContext => ({ dataDir, logger: silentLogger });

async function fileHarness(): Promise<OfflineHarness> {
  const dir = tempStoreDir('offline');
  const url = `duckdb:${join(dir, 'nested', 'offline.duckdb')}`;
  const store = await createOfflineStore(url, ctx(dir));
  return {
    store,
    url,
    ctx: ctx(dir),
    teardown: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function memoryHarness(): Promise<OfflineHarness> {
  const dir = tempStoreDir('offline');
  const store = await createOfflineStore('duckdb::memory:', ctx(dir));
  return {
    store,
    url: 'duckdb::memory:',
    ctx: ctx(dir),
    teardown: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

offlineStoreConformance('DuckDB file', fileHarness, { persistent: true });
offlineStoreConformance('DuckDB in memory', memoryHarness, { persistent: false });

describe('createOfflineStore', () => {
  it('opens offline.duckdb in the data directory for the URL "duckdb", and the data is there after reopening', async () => {
    const dir = tempStoreDir('offline');
    try {
      const store = await createOfflineStore('duckdb', ctx(dir));
      expect(store.description).toBe(`duckdb:${join(dir, 'offline.duckdb')}`);
      await store.ensureTable('t', { id: 'int64' });
      await store.append('t', [{ id: 1n }]);
      await store.close();
      expect(existsSync(join(dir, 'offline.duckdb'))).toBe(true);
      const reopened = await createOfflineStore('duckdb', ctx(dir));
      expect(await reopened.query('SELECT id FROM t')).toEqual([{ id: 1n }]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects any other URL with CONFIG_INVALID naming offlineStore and the accepted forms', async () => {
    for (const url of ['', 'duckdb:', 'duckdb::foo', 'sqlite:/tmp/x.db', 'postgres://user:secret@host/db']) {
      const err = await rejection(createOfflineStore(url, ctx('/tmp')));
      expect({ code: err.code, field: err.details.field }).toEqual({
        code: 'CONFIG_INVALID',
        field: 'offlineStore',
      });
      expect(err.message).toContain('duckdb::memory:');
      expect(err.message).not.toContain('secret');
    }
  });

  it('fails fast with STORE_UNAVAILABLE naming the URL when the file cannot be opened', async () => {
    const dir = tempStoreDir('offline');
    try {
      const notADirectory = join(dir, 'plain-file');
      writeFileSync(notADirectory, 'x');
      for (const url of [`duckdb:${dir}`, `duckdb:${join(notADirectory, 'offline.duckdb')}`]) {
        const started = Date.now();
        const err = await rejection(createOfflineStore(url, ctx(dir)));
        expect(err.code).toBe('STORE_UNAVAILABLE');
        expect(err.message).toContain(url);
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
