import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { Migration, StateStore } from '../../src/stores/state/port.js';
import type { StoreContext } from '../../src/stores/store.js';
import { rejection } from '../helpers/errors.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { freePort, type RunningServer, serverAvailable, startPostgres } from '../helpers/servers.js';
import { type StateStoreFixture, stateStoreConformance } from './state.js';

const ctx = (dataDir: string): StoreContext => ({ dataDir, logger: silentLogger });

describe('PGlite state store', () => {
  // initdb in WASM takes ~10 s here, so it runs once and every test starts from a copy of the result.
  const pglite = pgliteTemplate('pglite-state', async (template, root) => {
    await (await createStateStore(`pglite:${template}`, ctx(root))).close();
  });
  const freshDir = (): string => pglite.freshDir();

  stateStoreConformance('pglite', async (): Promise<StateStoreFixture> => {
    const dir = freshDir();
    let store = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
    return {
      store,
      async reopen() {
        await store.close();
        store = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
        return store;
      },
      teardown: () => store.close(),
    };
  });

  it('refuses a second open of a data directory that is in use, naming it', async () => {
    const dir = freshDir();
    const first = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
    try {
      const err = await rejection(createStateStore(`pglite:${dir}`, ctx(pglite.root)));
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect(err.message).toContain(dir);
      expect(err.message).toContain('this process has it open');
    } finally {
      await first.close();
    }
  });

  it('refuses a statement on the store itself inside its own transaction instead of deadlocking', async () => {
    const store = await createStateStore(`pglite:${freshDir()}`, ctx(pglite.root));
    try {
      const err = await rejection(store.transaction(() => store.query('SELECT 1')));
      expect(err.code).toBe('FAILED_PRECONDITION');
      expect(err.message).toContain('use the tx executor');
      expect((await store.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await store.close();
    }
  });

  it('takes over the lock of a process that died without closing', async () => {
    const dir = freshDir();
    writeFileSync(`${dir}.lock`, '2147483646');
    const store = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
    expect((await store.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await store.close();
  });

  it('takes over a lock naming this process when this process does not have the directory open (container PID 1 after SIGKILL)', async () => {
    const dir = freshDir();
    writeFileSync(`${dir}.lock`, String(process.pid));
    const store = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
    expect((await store.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(String(process.pid));
    await store.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('refuses a data directory whose lock names another running process', async () => {
    const dir = freshDir();
    writeFileSync(`${dir}.lock`, String(process.ppid));
    const err = await rejection(createStateStore(`pglite:${dir}`, ctx(pglite.root)));
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain(`process ${process.ppid} has it open`);
    expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(String(process.ppid));
  });

  it('releases the lock before either of two concurrent close() calls settles', async () => {
    const dir = freshDir();
    const store = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
    const first = store.close();
    await store.close();
    const again = await createStateStore(`pglite:${dir}`, ctx(pglite.root));
    await again.close();
    await first;
  });

  it('keeps the data under <dataDir>/state for the plain `pglite` URL', async () => {
    const dataDir = join(pglite.root, 'plain-url');
    pglite.freshDir(join(dataDir, 'state'));
    const store = await createStateStore('pglite', ctx(dataDir));
    expect(store.description).toBe(`pglite:${join(dataDir, 'state')}`);
    await store.close();
  });
});

describe('createStateStore URLs', () => {
  it('rejects an unknown URL with CONFIG_INVALID naming the field and the accepted forms', async () => {
    for (const url of ['redis://localhost:6379', 'pglite:relative/dir', 'sqlite:x.db']) {
      const err = await rejection(createStateStore(url, ctx(tmpdir())));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details.field).toBe('stateStore');
      expect(err.message).toContain('postgres://');
      expect(err.message).toContain('pglite:/absolute/path');
    }
  });
});

describe.runIf(serverAvailable('postgres'))('PostgreSQL state store', () => {
  let server: RunningServer;
  let admin: pg.Client;
  let n = 0;

  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  const freshDatabase = async (): Promise<string> => {
    const name = `state_${++n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    return server.url.replace(/\/postgres$/, `/${name}`);
  };

  stateStoreConformance('postgres', async (): Promise<StateStoreFixture> => {
    const url = await freshDatabase();
    let store = await createStateStore(url, ctx(tmpdir()));
    return {
      store,
      async reopen() {
        await store.close();
        store = await createStateStore(url, ctx(tmpdir()));
        return store;
      },
      teardown: () => store.close(),
    };
  });

  it('applies each migration exactly once when two processes migrate the same database at once', async () => {
    const url = await freshDatabase();
    const stores: StateStore[] = [];
    for (let i = 0; i < 4; i++) stores.push(await createStateStore(url, ctx(tmpdir())));
    // Not idempotent on purpose: applying any of these twice would fail with "already exists".
    const migrations: Migration[] = Array.from({ length: 6 }, (_, i) => ({
      version: i + 1,
      name: `t${i + 1}`,
      sql: `CREATE TABLE t${i + 1} (x int); SELECT pg_sleep(0.02)`,
    }));
    try {
      const results = await Promise.all(stores.map((s) => s.migrate(migrations)));
      const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
      expect(applied).toEqual([1, 2, 3, 4, 5, 6]);
      for (const r of results) expect([...r.applied, ...r.skipped].sort((a, b) => a - b)).toEqual(applied);
      const { rows } = await stores[0]!.query('SELECT version FROM meridian_migrations');
      expect(rows).toHaveLength(6);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('fails fast with STORE_UNAVAILABLE naming the redacted URL when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejection(
      createStateStore(`postgres://meridian:s3cret@127.0.0.1:${port}/db`, ctx(tmpdir())),
    );
    expect(Date.now() - started).toBeLessThan(6000);
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain('SELECT 1');
    expect(err.message).not.toContain('s3cret');
  });

  it('names the database error when the server refuses the connection', async () => {
    const err = await rejection(
      createStateStore(server.url.replace(/\/postgres$/, '/no_such_db'), ctx(tmpdir())),
    );
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain('database "no_such_db" does not exist');
  });
});
