import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeridianError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import { type LmdbOnlineStore, openLmdbOnlineStore } from '../../src/stores/online/lmdb.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { openRedisOnlineStore } from '../../src/stores/online/redis.js';
import {
  freePort,
  type RunningServer,
  serverAvailable,
  startRedis,
  tempStoreDir,
} from '../helpers/servers.js';
import { type OnlineStoreHarness, onlineStoreConformance } from './online.js';

const ROOT = resolve(import.meta.dirname, '../..');
const LMDB_MODULE = join(ROOT, 'src/stores/online/lmdb.ts');

function harness(first: OnlineStore, openOne: () => Promise<OnlineStore>, cleanup: () => Promise<void>) {
  const opened: OnlineStore[] = [];
  return {
    store: first,
    openAnother: async () => {
      const store = await openOne();
      opened.push(store);
      return store;
    },
    teardown: async () => {
      for (const store of opened) await store.close();
      await first.close();
      await cleanup();
    },
  } satisfies OnlineStoreHarness;
}

onlineStoreConformance('lmdb', async () => {
  const dir = tempStoreDir('online-lmdb');
  const open = () => openLmdbOnlineStore(dir, { purgeIntervalMs: 0 });
  return harness(await open(), open, async () => rmSync(dir, { recursive: true, force: true }));
});

describe.runIf(serverAvailable('redis'))('redis online store', () => {
  let server: RunningServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    await admin?.quit();
    await server?.stop();
  });

  onlineStoreConformance('redis', async () => {
    await admin.flushdb();
    const open = () => openRedisOnlineStore(server.url);
    return harness(await open(), open, async () => {});
  });

  it('puts every view of one entity in the same hash slot, as one row string with a PEXPIRE', async () => {
    await admin.flushdb();
    const store = await openRedisOnlineStore(server.url);
    try {
      await store.writeLatest('users', [{ entityKey: '42|US', eventTime: 7, values: { age: 30n } }], {
        ttlMs: 60_000,
      });
      await store.writeLatest('orders', [{ entityKey: '42|US', eventTime: 8, values: { n: 2 } }]);
      const keys = (await admin.keys('*')).sort();
      expect(keys).toEqual(['mrd:ol:orders:{42|US}', 'mrd:ol:users:{42|US}']);
      expect(await admin.get('mrd:ol:users:{42|US}')).toBe('[7,0,{"age":"i30"}]');
      const ttl = await admin.pttl('mrd:ol:users:{42|US}');
      expect(ttl).toBeGreaterThan(50_000);
      expect(await admin.pttl('mrd:ol:orders:{42|US}')).toBe(-1);
    } finally {
      await store.close();
    }
  });

  it('answers STORE_UNAVAILABLE within a few seconds when Redis goes away after connecting', async () => {
    const doomed = await startRedis();
    const store = await openRedisOnlineStore(doomed.url);
    try {
      await store.writeLatest('v', [{ entityKey: 'e', eventTime: 1, values: { x: 1 } }]);
      await doomed.stop();
      const started = Date.now();
      const err = (await store.getMany('v', ['e'], ['x']).catch((e: unknown) => e)) as MeridianError;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect(err.message).toContain(doomed.url);
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      await store.close();
    }
  });

  it('reads 50 keys x 5 features with getMany in one round trip: one MGET, one answer', async () => {
    await admin.flushdb();
    const port = await freePort();
    const target = new URL(server.url);
    let clientWrites = 0;
    const proxy = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      client.on('data', (chunk) => {
        clientWrites++;
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    const store = await openRedisOnlineStore(`redis://127.0.0.1:${port}`);
    try {
      const features = ['a', 'b', 'c', 'd', 'e'];
      const keys = Array.from({ length: 50 }, (_, i) => `e${i}`);
      const values = Object.fromEntries(features.map((f, j) => [f, j]));
      await store.writeLatest(
        'many',
        keys.map((entityKey, i) => ({ entityKey, eventTime: i, values })),
      );
      await store.getMany('many', keys, features);
      await admin.config('RESETSTAT');
      clientWrites = 0;
      const reads = await store.getMany('many', keys, features);
      expect(clientWrites).toBe(1);
      expect(reads.every((r) => r.found && r.features.every((f) => f.status === 'PRESENT'))).toBe(true);
      const stats = (await admin.info('commandstats')) as string;
      expect(stats).toMatch(/cmdstat_mget:calls=1,/);
      expect(stats).not.toMatch(/cmdstat_(get|hmget):/);
    } finally {
      await store.close();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('answers DATA_CORRUPT naming view and entity for a stored row that is not a row', async () => {
    await admin.flushdb();
    const store = await openRedisOnlineStore(server.url);
    try {
      await store.writeLatest('v', [{ entityKey: 'good', eventTime: 5, values: { x: 1 } }]);
      await admin.set('mrd:ol:v:{bad}', '{not json');
      const err = (await store
        .getMany('v', ['good', 'bad'], ['x'])
        .catch((e: unknown) => e)) as MeridianError;
      expect(err.code).toBe('DATA_CORRUPT');
      expect(err.details).toEqual({ view: 'v', entityKey: 'bad' });
      expect((await store.getMany('v', ['good'], ['x']))[0]!.features).toEqual([
        { status: 'PRESENT', value: 1 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('reads a key of another type (an older hash layout) as absent and replaces it on the next write', async () => {
    await admin.flushdb();
    const store = await openRedisOnlineStore(server.url);
    try {
      await admin.hset('mrd:ol:v:{old}', { '': '9', x: 'd1' });
      expect((await store.getMany('v', ['old'], ['x']))[0]!.found).toBe(false);
      expect(await store.writeLatest('v', [{ entityKey: 'old', eventTime: 1, values: { x: 2 } }])).toEqual({
        written: 1,
        stale: 0,
      });
      expect((await store.getMany('v', ['old'], ['x']))[0]!.features).toEqual([
        { status: 'PRESENT', value: 2 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('escapes braces and colons so an entity key cannot split the hash tag', async () => {
    await admin.flushdb();
    const store = await openRedisOnlineStore(server.url);
    try {
      await store.writeLatest('a:b', [{ entityKey: '}x{', eventTime: 1, values: { f: 1 } }]);
      expect(await admin.keys('*')).toEqual(['mrd:ol:a%3Ab:{%7Dx%7B}']);
    } finally {
      await store.close();
    }
  });
});

describe('online store: unreachable servers and the factory', () => {
  const ctx = (dataDir: string) => ({ dataDir, logger: silentLogger });

  it('fails within a few seconds with STORE_UNAVAILABLE naming the URL when nothing listens', async () => {
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    const started = Date.now();
    const err = await createOnlineStore(url, ctx('/tmp')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(MeridianError);
    expect((err as MeridianError).code).toBe('STORE_UNAVAILABLE');
    expect((err as MeridianError).message).toContain(url);
    expect((err as MeridianError).message).toContain('ECONNREFUSED');
  });

  it('hides the password of an unreachable Redis URL', async () => {
    const url = `redis://user:s3cret@127.0.0.1:${await freePort()}/0`;
    const err = (await createOnlineStore(url, ctx('/tmp')).catch((e: unknown) => e)) as MeridianError;
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).not.toContain('s3cret');
  });

  it('opens lmdb in <dataDir>/online and lmdb:<path> at that path', async () => {
    const dir = tempStoreDir('online-factory');
    try {
      const inData = await createOnlineStore('lmdb', ctx(dir));
      expect(inData.description).toBe(`lmdb:${join(dir, 'online')}`);
      await inData.close();
      const atPath = await createOnlineStore(`lmdb:${join(dir, 'elsewhere')}`, ctx('/nonexistent'));
      expect(atPath.description).toBe(`lmdb:${join(dir, 'elsewhere')}`);
      await atPath.writeLatest('v', [{ entityKey: 'e', eventTime: 1, values: { x: 1 } }]);
      await atPath.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects any other URL with CONFIG_INVALID on onlineStore, listing the accepted forms', async () => {
    for (const url of ['', 'memory', 'lmdb:', 'postgres://x', 'http://redis:6379']) {
      const err = (await createOnlineStore(url, ctx('/tmp')).catch((e: unknown) => e)) as MeridianError;
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details.field).toBe('onlineStore');
      expect(err.message).toContain('lmdb:/some/path');
      expect(err.message).toContain('redis://');
    }
  });

  it('answers STORE_UNAVAILABLE naming the path when the LMDB directory cannot be created', async () => {
    const dir = tempStoreDir('online-bad');
    try {
      writeFileSync(join(dir, 'file'), 'not a directory');
      const err = (await createOnlineStore(`lmdb:${join(dir, 'file', 'db')}`, ctx(dir)).catch(
        (e: unknown) => e,
      )) as MeridianError;
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect(err.message).toContain(join(dir, 'file', 'db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A child writer: waits for "go" on stdin, races random event times for ~1 s, prints what it wrote. */
const CHILD = `
const cfg = JSON.parse(process.env.ONLINE_CHILD);
const { openLmdbOnlineStore } = await import(cfg.module);
const store = await openLmdbOnlineStore(cfg.path, { purgeIntervalMs: 0 });
let s = cfg.seed >>> 0;
const random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const newest = {};
const batch = () => cfg.entities.map((entityKey) => {
  const t = 1000000 + Math.floor(random() * 1000000);
  newest[entityKey] = Math.max(newest[entityKey] ?? 0, t);
  return { entityKey, eventTime: t, values: { t: BigInt(t), label: 'at-' + t } };
});
process.stdout.write('ready\\n');
await new Promise((r) => process.stdin.once('data', r));
const first = Date.now();
let written = 0, stale = 0;
while (Date.now() - first < cfg.ms) {
  const results = await Promise.all([batch(), batch(), batch()].map((rows) => store.writeLatest('race', rows)));
  for (const r of results) { written += r.written; stale += r.stale; }
}
const last = Date.now();
await store.close();
process.stdout.write(JSON.stringify({ newest, written, stale, first, last }) + '\\n');
process.exit(0);
`;

interface ChildReport {
  newest: Record<string, number>;
  written: number;
  stale: number;
  first: number;
  last: number;
}

function spawnWriter(path: string, seed: number, entities: string[]) {
  const env = {
    ...process.env,
    ONLINE_CHILD: JSON.stringify({ module: LMDB_MODULE, path, seed, entities, ms: 1000 }),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env,
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ready = new Promise<void>((res, rej) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready\n')) res();
    });
    child.once('exit', (code) => rej(new Error(`writer exited early (${code}): ${err}`)));
  });
  const done = new Promise<ChildReport>((res, rej) => {
    child.once('exit', (code) =>
      code === 0
        ? res(JSON.parse(out.split('\n').filter(Boolean).pop()!))
        : rej(new Error(`writer failed (${code}): ${err}`)),
    );
  });
  return { ready, done, go: () => child.stdin.write('go\n') };
}

describe('lmdb online store specifics', () => {
  it('keeps the newest event when several OS processes race on the same entities', async () => {
    const dir = tempStoreDir('online-procs');
    const entities = ['p0', 'p1', 'p2', 'p3'];
    try {
      const reader = await openLmdbOnlineStore(dir, { purgeIntervalMs: 0 });
      const writers = [11, 22, 33].map((seed) => spawnWriter(dir, seed, entities));
      await Promise.all(writers.map((w) => w.ready));
      for (const w of writers) w.go();
      const reports = await Promise.all(writers.map((w) => w.done));
      expect(Math.max(...reports.map((r) => r.first))).toBeLessThan(Math.min(...reports.map((r) => r.last)));
      expect(reports.every((r) => r.written > 0 && r.stale > 0)).toBe(true);
      const reads = await reader.getMany('race', entities, ['t', 'label']);
      for (const read of reads) {
        const t = Math.max(...reports.map((r) => r.newest[read.entityKey]!));
        expect(read.eventTime).toBe(t);
        expect(read.features).toEqual([
          { status: 'PRESENT', value: BigInt(t) },
          { status: 'PRESENT', value: `at-${t}` },
        ]);
      }
      await reader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('purges expired rows from the file, lazily after a read and by a chunked sweep, keeping live rows', async () => {
    const dir = tempStoreDir('online-purge');
    let store: LmdbOnlineStore | undefined;
    try {
      store = await openLmdbOnlineStore(dir, { purgeIntervalMs: 0 });
      const rows = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ entityKey: `${prefix}${i}`, eventTime: i, values: { x: i } }));
      await store.writeLatest('v', rows('swept', 4500), { ttlMs: 50 });
      await store.writeLatest('v', rows('lazy', 3), { ttlMs: 50 });
      await store.writeLatest('v', rows('live', 3));
      await new Promise((r) => setTimeout(r, 120));
      const raw = open<string, string>({ path: dir, encoding: 'string', useVersions: true });
      expect(raw.getKeysCount()).toBe(4506);
      await store.getMany('v', ['lazy0', 'lazy1', 'lazy2'], ['x']);
      await new Promise((r) => setTimeout(r, 50));
      raw.resetReadTxn();
      expect(raw.getKeysCount()).toBe(4503);
      expect(await store.purgeExpired()).toBe(4500);
      raw.resetReadTxn();
      expect([...raw.getKeys()].sort()).toEqual(['v\u0000live0', 'v\u0000live1', 'v\u0000live2']);
      await raw.close();
    } finally {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers DATA_CORRUPT naming view and entity for a stored row that is not a row, and still reads the others', async () => {
    const dir = tempStoreDir('online-corrupt');
    const store = await openLmdbOnlineStore(dir, { purgeIntervalMs: 0 });
    const raw = open<string, string>({ path: dir, encoding: 'string', useVersions: true });
    try {
      const rows = ['good', 'bad', 'odd'].map((entityKey) => ({ entityKey, eventTime: 5, values: { x: 1 } }));
      await store.writeLatest('v', rows);
      await raw.put('v\u0000bad', '{not json', 5);
      await raw.put('v\u0000odd', '[5,0]', 5);
      await new Promise((r) => setTimeout(r, 20));
      for (const entity of ['bad', 'odd']) {
        const err = (await store
          .getMany('v', ['good', entity], ['x'])
          .catch((e: unknown) => e)) as MeridianError;
        expect(err.code).toBe('DATA_CORRUPT');
        expect(err.details).toEqual({ view: 'v', entityKey: entity });
        expect(err.message).toContain('deleteView');
      }
      expect((await store.getMany('v', ['good'], ['x']))[0]!.features).toEqual([
        { status: 'PRESENT', value: 1 },
      ]);
    } finally {
      await raw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an entity key longer than an LMDB key can hold, and reads it as not found', async () => {
    const dir = tempStoreDir('online-long');
    mkdirSync(dir, { recursive: true });
    const store = await openLmdbOnlineStore(dir, { purgeIntervalMs: 0 });
    try {
      const key = 'é'.repeat(2000);
      const err = (await store
        .writeLatest('v', [{ entityKey: key, eventTime: 1, values: { x: 1 } }])
        .catch((e: unknown) => e)) as MeridianError;
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.details.field).toBe('rows[0].entityKey');
      expect((await store.getMany('v', [key], ['x']))[0]!.found).toBe(false);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
