/**
 * The artifact store conformance suite: every implementation of ArtifactStore must pass it unchanged.
 * The harness gives the suite two ways past the store: changing stored bytes behind its back (to prove
 * reads are verified) and listing everything the backend holds (to prove nothing leaks or escapes).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { expectCode } from '../helpers/errors.js';
import { generatedBody, memoryWatch, readAll, sha256 } from './artifact-helpers.js';

export interface ArtifactHarness {
  store: ArtifactStore;
  /** Replaces the stored bytes of an artifact without going through the store, keeping its recorded hash. */
  tamper(path: string, bytes: Buffer): Promise<void>;
  /** Every object the backend holds anywhere the store could reach, including outside its own root. */
  rawNames(): Promise<string[]>;
  teardown(): Promise<void>;
}

const MiB = 1024 * 1024;
const BIG_SIZE = 200 * MiB;

/** Runs the shared artifact store suite against the implementation that `setup` opens. */
export function artifactStoreConformance(name: string, setup: () => Promise<ArtifactHarness>): void {
  describe(`artifact store conformance: ${name}`, () => {
    let h: ArtifactHarness;
    let store: ArtifactStore;

    beforeEach(async () => {
      h = await setup();
      store = h.store;
    });
    afterEach(async () => {
      await h.teardown();
    });

    it('returns exactly what was put, for Buffer, Uint8Array, string, Readable and async iterable bodies', async () => {
      const bodies = {
        'buffer.bin': Buffer.from([0, 1, 2, 255, 254]),
        'uint8.bin': new Uint8Array([9, 8, 7]),
        'text.txt': 'héllo wörld\n',
        'readable.bin': Readable.from([Buffer.from('one,'), Buffer.from('two,'), Buffer.from('three')]),
        'iterable.bin': (async function* () {
          yield new Uint8Array([1, 2]);
          yield Buffer.from('xyz');
        })(),
      };
      const expected = {
        'buffer.bin': Buffer.from([0, 1, 2, 255, 254]),
        'uint8.bin': Buffer.from([9, 8, 7]),
        'text.txt': Buffer.from('héllo wörld\n', 'utf8'),
        'readable.bin': Buffer.from('one,two,three'),
        'iterable.bin': Buffer.from([1, 2, 0x78, 0x79, 0x7a]),
      };
      for (const [path, body] of Object.entries(bodies)) {
        const bytes = expected[path as keyof typeof expected];
        const info = await store.put(path, body);
        expect(info).toMatchObject({ path, size: bytes.length, sha256: sha256(bytes) });
        expect(await store.getBuffer(path)).toEqual(bytes);
        expect(await readAll(await store.get(path))).toEqual(bytes);
        expect(await store.stat(path)).toMatchObject({ path, size: bytes.length, sha256: sha256(bytes) });
      }
    });

    it('records the sha256 and size of the bytes on put, equal to what Node computes, with the time of the put', async () => {
      const bytes = Buffer.from('model weights v1');
      const before = Date.now();
      const info = await store.put('models/churn/1/model.onnx', bytes, {
        contentType: 'application/octet-stream',
      });
      expect(info.sha256).toBe(sha256(bytes));
      expect(info.size).toBe(bytes.length);
      expect(info.updatedAt).toBeInstanceOf(Date);
      expect(info.updatedAt.getTime()).toBeGreaterThan(before - 5_000);
      expect(info.updatedAt.getTime()).toBeLessThan(Date.now() + 5_000);
      const stat = await store.stat('models/churn/1/model.onnx');
      expect(stat).toEqual({ ...info, updatedAt: expect.any(Date) });
    });

    it('stores an empty artifact with the sha256 of no bytes', async () => {
      const info = await store.put('empty/file', Buffer.alloc(0));
      expect(info).toMatchObject({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      expect((await store.getBuffer('empty/file')).length).toBe(0);
      expect(await store.stat('empty/file')).toMatchObject({ size: 0 });
    });

    it('replaces content and hash on overwrite', async () => {
      await store.put('a/model.bin', 'version one');
      const second = await store.put('a/model.bin', 'second version, longer');
      expect(second.sha256).toBe(sha256('second version, longer'));
      expect((await store.getBuffer('a/model.bin')).toString()).toBe('second version, longer');
      expect(await store.stat('a/model.bin')).toMatchObject({ size: 22, sha256: second.sha256 });
      expect(await store.list()).toHaveLength(1);
    });

    it('lists artifacts under a prefix sorted by path, and nothing else', async () => {
      const paths = [
        'b.txt',
        'models/fraud/1/m',
        'a/z.bin',
        'ab.txt',
        'models/churn/2/m',
        'a/b/c.txt',
        'models/churn/1/m',
      ];
      for (const path of paths) await store.put(path, `content of ${path}`);
      const all = await store.list();
      expect(all.map((a) => a.path)).toEqual([...paths].sort());
      for (const info of all) expect(info).toMatchObject({ sha256: sha256(`content of ${info.path}`) });
      expect((await store.list('a/')).map((a) => a.path)).toEqual(['a/b/c.txt', 'a/z.bin']);
      expect((await store.list('a')).map((a) => a.path)).toEqual(['a/b/c.txt', 'a/z.bin', 'ab.txt']);
      expect((await store.list('models/ch')).map((a) => a.path)).toEqual([
        'models/churn/1/m',
        'models/churn/2/m',
      ]);
      expect(await store.list('nothing/here/')).toEqual([]);
      expect(await store.list('')).toHaveLength(paths.length);
    });

    it('deletes an artifact, and answers false when there was nothing to delete', async () => {
      await store.put('keep/x', 'x');
      await store.put('drop/deep/y', 'y');
      expect(await store.delete('drop/deep/y')).toBe(true);
      expect(await store.stat('drop/deep/y')).toBeNull();
      await expectCode(store.get('drop/deep/y'), 'NOT_FOUND');
      expect((await store.list()).map((a) => a.path)).toEqual(['keep/x']);
      expect(await store.delete('drop/deep/y')).toBe(false);
      expect(await store.delete('never/was')).toBe(false);
      expect((await store.getBuffer('keep/x')).toString()).toBe('x');
    });

    it('answers NOT_FOUND naming the path for a missing artifact, and null from stat', async () => {
      const err = await expectCode(store.get('no/such/model.onnx'), 'NOT_FOUND');
      expect(err.message).toContain('no/such/model.onnx');
      await expectCode(store.getBuffer('no/such/model.onnx'), 'NOT_FOUND');
      expect(await store.stat('no/such/model.onnx')).toBeNull();
    });

    it('fails a read with DATA_CORRUPT when the stored bytes were changed behind its back', async () => {
      const original = Buffer.from('the real baseline histogram');
      await store.put('baselines/v1.json', original);
      const forged = Buffer.from(original);
      forged[3] = forged[3]! ^ 0xff;
      await h.tamper('baselines/v1.json', forged);
      await expectCode(readAll(await store.get('baselines/v1.json')), 'DATA_CORRUPT');
      const err = await expectCode(store.getBuffer('baselines/v1.json'), 'DATA_CORRUPT');
      expect(err.message).toContain('baselines/v1.json');
    });

    it('fails a read with DATA_CORRUPT when the stored bytes changed length', async () => {
      await store.put('short', 'twelve bytes');
      await h.tamper('short', Buffer.from('twelve bytes and more'));
      await expectCode(store.getBuffer('short'), 'DATA_CORRUPT');
      await store.put('long', 'twelve bytes');
      await h.tamper('long', Buffer.from('twelve'));
      await expectCode(store.getBuffer('long'), 'DATA_CORRUPT');
    });

    it('rejects traversal and absolute paths with INVALID_ARGUMENT naming path, writing nothing anywhere', async () => {
      await store.put('inside/ok', 'ok');
      const before = await h.rawNames();
      const bad = [
        '../x',
        'a/../../x',
        '/etc/passwd',
        'C:\\x',
        'C:/x',
        'a\\b',
        '\\\\server\\share',
        '..',
        'a/./b',
      ];
      for (const path of bad) {
        const err = await expectCode(store.put(path, 'escaped'), 'INVALID_ARGUMENT', 'path');
        expect(err.message).toMatch(/relative path of slash-separated names/);
        await expectCode(store.get(path), 'INVALID_ARGUMENT', 'path');
        await expectCode(store.stat(path), 'INVALID_ARGUMENT', 'path');
        await expectCode(store.delete(path), 'INVALID_ARGUMENT', 'path');
      }
      expect(await h.rawNames()).toEqual(before);
    });

    it('rejects malformed paths, prefixes, bodies and options, naming the argument', async () => {
      const badPaths: unknown[] = [
        '',
        'a//b',
        'dir/',
        'nul\0byte',
        'bell\u0007',
        'x'.repeat(1025),
        'dots.',
        42,
        null,
      ];
      for (const path of badPaths) {
        await expectCode(store.put(path as string, 'x'), 'INVALID_ARGUMENT', 'path');
      }
      await expectCode(store.put('.meridian-meta-x.json', 'x'), 'INVALID_ARGUMENT', 'path');
      await expectCode(store.list('../'), 'INVALID_ARGUMENT', 'prefix');
      await expectCode(store.list('/abs'), 'INVALID_ARGUMENT', 'prefix');
      await expectCode(store.put('ok/path', null as never), 'INVALID_ARGUMENT', 'body');
      await expectCode(store.put('ok/path', 12 as never), 'INVALID_ARGUMENT', 'body');
      await expectCode(
        store.put('ok/path', 'x', { contentType: 'not a type' }),
        'INVALID_ARGUMENT',
        'options.contentType',
      );
      expect(await store.list()).toEqual([]);
    });

    it('leaves nothing behind, and the previous version intact, when the body fails mid-way', async () => {
      await store.put('models/m.bin', 'good version');
      const before = await h.rawNames();
      const failing = (): Readable =>
        Readable.from(
          (async function* () {
            yield Buffer.alloc(5 * MiB, 7);
            throw new Error('upload connection reset');
          })(),
        );
      const err = await expectCode(store.put('models/m.bin', failing()), 'INVALID_ARGUMENT', 'body');
      expect(err.message).toContain('upload connection reset');
      await expectCode(store.put('models/new.bin', failing()), 'INVALID_ARGUMENT', 'body');
      expect((await store.getBuffer('models/m.bin')).toString()).toBe('good version');
      expect(await store.stat('models/new.bin')).toBeNull();
      expect((await store.list()).map((a) => a.path)).toEqual(['models/m.bin']);
      expect(await h.rawNames()).toEqual(before);
    });

    it('gives a reader racing overwrites one whole version, never a mix or a false DATA_CORRUPT', async () => {
      const versions = [Buffer.alloc(300_000, 1), Buffer.alloc(200_000, 2), Buffer.alloc(100_000, 3)];
      const known = new Set(versions.map((v) => sha256(v)));
      await store.put('hot/model', versions[0]!);
      const deadline = Date.now() + 1_500;
      const writer = (async () => {
        for (let i = 1; Date.now() < deadline; i++) await store.put('hot/model', versions[i % 3]!);
      })();
      let reads = 0;
      while (Date.now() < deadline) {
        expect(known.has(sha256(await store.getBuffer('hot/model')))).toBe(true);
        reads++;
      }
      await writer;
      expect(reads).toBeGreaterThan(5);
    });

    it('streams a 200 MB artifact in and out with heap and buffer growth under 64 MB', {
      timeout: 90_000,
    }, async () => {
      const generated = generatedBody(BIG_SIZE);
      const watch = memoryWatch();
      const info = await store.put('datasets/big.bin', generated.body);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of await store.get('datasets/big.bin')) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      const growth = watch.stop();
      console.info(
        `${name}: 200 MB put+get peak growth heap ${growth.heapMiB.toFixed(1)} MiB, arrayBuffers ${growth.arrayBuffersMiB.toFixed(1)} MiB`,
      );
      expect(info).toMatchObject({ size: BIG_SIZE, sha256: generated.hash() });
      expect(size).toBe(BIG_SIZE);
      expect(hash.digest('hex')).toBe(generated.hash());
      expect(growth.heapMiB).toBeLessThan(64);
      expect(growth.arrayBuffersMiB).toBeLessThan(64);
    });

    it('answers ping, refuses every call with STORE_UNAVAILABLE once closed, and closes twice safely', async () => {
      await store.put('models/m.bin', 'content');
      await store.ping();
      expect(store.description.length).toBeGreaterThan(0);
      await Promise.all([store.close(), store.close()]);
      await store.close();
      const calls = [
        store.ping(),
        store.put('models/n.bin', 'more'),
        store.get('models/m.bin'),
        store.getBuffer('models/m.bin'),
        store.stat('models/m.bin'),
        store.list(),
        store.delete('models/m.bin'),
      ];
      for (const call of calls) await expectCode(call, 'STORE_UNAVAILABLE');
    });

    it('keeps content and hash paired when many puts of different content to one path run at once', async () => {
      const versions = Array.from({ length: 16 }, (_, i) => Buffer.alloc(4_096, i + 1));
      const known = new Set(versions.map((v) => sha256(v)));
      for (let round = 0; round < 8; round++) {
        const infos = await Promise.all(versions.map((v) => store.put('hot/concurrent', v)));
        for (const info of infos) expect(known.has(info.sha256)).toBe(true);
        const stat = await store.stat('hot/concurrent');
        const bytes = await store.getBuffer('hot/concurrent');
        expect(sha256(bytes)).toBe(stat?.sha256);
        expect(known.has(sha256(bytes))).toBe(true);
      }
    });
  });
}
