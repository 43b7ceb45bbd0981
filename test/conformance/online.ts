/**
 * The online store conformance suite: every OnlineStore implementation must pass it unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeatureValue, OnlineRow, OnlineStore } from '../../src/stores/online/port.js';
import { expectInvalid } from '../helpers/errors.js';

export interface OnlineStoreHarness {
  store: OnlineStore;
  /** Another independent instance on the same data (same LMDB path, another Redis connection). */
  openAnother(): Promise<OnlineStore>;
  /** Closes every instance and removes the data. */
  teardown(): Promise<void>;
}

/** A small deterministic generator, so a failing race can be replayed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const row = (entityKey: string, eventTime: number, values: Record<string, FeatureValue>): OnlineRow => ({
  entityKey,
  eventTime,
  values,
});

/** Runs the suite against one implementation; `setup` gives a fresh, empty store for each test. */
export function onlineStoreConformance(name: string, setup: () => Promise<OnlineStoreHarness>): void {
  describe(`online store conformance: ${name}`, () => {
    let h: OnlineStoreHarness;
    let store: OnlineStore;
    beforeEach(async () => {
      h = await setup();
      store = h.store;
    });
    afterEach(async () => {
      await h.teardown();
    });

    const valuesOf = async (view: string, key: string, features: string[]) =>
      (await store.getMany(view, [key], features))[0]!;

    it('never lets an older event overwrite a newer one', async () => {
      expect(await store.writeLatest('v', [row('e1', 2000, { x: 2n })])).toEqual({ written: 1, stale: 0 });
      expect(await store.writeLatest('v', [row('e1', 1999, { x: 1n })])).toEqual({ written: 0, stale: 1 });
      const read = await valuesOf('v', 'e1', ['x']);
      expect(read.eventTime).toBe(2000);
      expect(read.features).toEqual([{ status: 'PRESENT', value: 2n }]);
    });

    it('overwrites when the event time is equal, and when it is newer', async () => {
      await store.writeLatest('v', [row('e1', 1000, { x: 'first' })]);
      expect(await store.writeLatest('v', [row('e1', 1000, { x: 'second' })])).toEqual({
        written: 1,
        stale: 0,
      });
      expect((await valuesOf('v', 'e1', ['x'])).features[0]).toEqual({ status: 'PRESENT', value: 'second' });
      await store.writeLatest('v', [row('e1', 1001, { x: 'third' })]);
      expect((await valuesOf('v', 'e1', ['x'])).features[0]).toEqual({ status: 'PRESENT', value: 'third' });
    });

    it('replaces the whole row: features absent from the newer row read NOT_FOUND', async () => {
      await store.writeLatest('v', [row('e1', 1, { a: 1, b: 2 })]);
      await store.writeLatest('v', [row('e1', 2, { a: 10 })]);
      expect((await valuesOf('v', 'e1', ['a', 'b'])).features).toEqual([
        { status: 'PRESENT', value: 10 },
        { status: 'NOT_FOUND', value: null },
      ]);
    });

    it('counts written and stale rows of a mixed batch', async () => {
      await store.writeLatest('v', [row('a', 10, { x: 1 }), row('b', 10, { x: 1 })]);
      const result = await store.writeLatest('v', [
        row('a', 9, { x: 2 }),
        row('b', 11, { x: 2 }),
        row('c', 1, { x: 2 }),
      ]);
      expect(result).toEqual({ written: 2, stale: 1 });
    });

    it('reads at once a write that resolved through another instance', async () => {
      const other = await h.openAnother();
      await store.writeLatest('seen', [row('a', 1, { x: 1n })]);
      expect((await store.getMany('seen', ['a'], ['x']))[0]!.eventTime).toBe(1);
      await other.writeLatest('seen', [row('a', 2, { x: 2n })]);
      const [read] = await store.getMany('seen', ['a'], ['x']);
      expect(read).toMatchObject({ eventTime: 2, features: [{ status: 'PRESENT', value: 2n }] });
    });

    it('ends with the newest values when several instances race random event times on the same entities', async () => {
      const writers = [store, await h.openAnother(), await h.openAnother()];
      const entities = Array.from({ length: 6 }, (_, i) => `racer-${i}`);
      const random = seededRandom(20240611);
      const newest = new Map<string, number>();
      const calls: Promise<{ written: number; stale: number }>[] = [];
      for (let round = 0; round < 25; round++) {
        for (const writer of writers) {
          const order = [...entities].sort(() => random() - 0.5);
          const rows = order.map((entityKey) => {
            const t = 1_000_000 + Math.floor(random() * 1_000_000);
            newest.set(entityKey, Math.max(newest.get(entityKey) ?? 0, t));
            return row(entityKey, t, { t: BigInt(t), label: `at-${t}` });
          });
          calls.push(writer.writeLatest('race', rows));
        }
      }
      const results = await Promise.all(calls);
      const total = results.reduce((acc, r) => ({
        written: acc.written + r.written,
        stale: acc.stale + r.stale,
      }));
      expect(total.written + total.stale).toBe(25 * writers.length * entities.length);
      expect(total.stale).toBeGreaterThan(0);
      for (const reader of writers) {
        const reads = await reader.getMany('race', entities, ['t', 'label']);
        for (const read of reads) {
          const t = newest.get(read.entityKey)!;
          expect(read).toEqual({
            entityKey: read.entityKey,
            found: true,
            eventTime: t,
            features: [
              { status: 'PRESENT', value: BigInt(t) },
              { status: 'PRESENT', value: `at-${t}` },
            ],
          });
        }
      }
    });

    it('answers N keys x M features in the requested key and feature order', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
      const values = (k: number): Record<string, FeatureValue> =>
        Object.fromEntries(features.map((f, j) => [f, `${k}:${j}`]));
      await store.writeLatest(
        'v',
        keys.map((key, k) => row(key, 100 + k, values(k))),
      );
      const askedKeys = [...keys].reverse();
      const askedFeatures = ['f6', 'f0', 'f3', 'f1', 'f5', 'f2', 'f4'];
      const reads = await store.getMany('v', askedKeys, askedFeatures);
      expect(reads.map((r) => r.entityKey)).toEqual(askedKeys);
      reads.forEach((read, i) => {
        const k = Number(askedKeys[i]!.slice(1));
        expect(read.eventTime).toBe(100 + k);
        expect(read.features.map((f) => f.value)).toEqual(askedFeatures.map((f) => `${k}:${f.slice(1)}`));
      });
    });

    it('reports missing entities as not found and missing features as NOT_FOUND, never as zeros or empty strings', async () => {
      await store.writeLatest('v', [row('there', 5, { zero: 0, empty: '', no: false })]);
      const reads = await store.getMany(
        'v',
        ['absent', 'there', 'there'],
        ['zero', 'missing', 'empty', 'no'],
      );
      expect(reads[0]).toEqual({
        entityKey: 'absent',
        found: false,
        eventTime: null,
        features: Array(4).fill({ status: 'NOT_FOUND', value: null }),
      });
      for (const read of reads.slice(1)) {
        expect(read).toEqual({
          entityKey: 'there',
          found: true,
          eventTime: 5,
          features: [
            { status: 'PRESENT', value: 0 },
            { status: 'NOT_FOUND', value: null },
            { status: 'PRESENT', value: '' },
            { status: 'PRESENT', value: false },
          ],
        });
      }
    });

    it('answers an empty list for no keys and an empty feature list for no features', async () => {
      await store.writeLatest('v', [row('e', 1, { x: 1 })]);
      expect(await store.getMany('v', [], ['x'])).toEqual([]);
      expect(await store.getMany('v', ['e'], [])).toEqual([
        { entityKey: 'e', found: true, eventTime: 1, features: [] },
      ]);
      expect(await store.writeLatest('v', [])).toEqual({ written: 0, stale: 0 });
    });

    it('expires rows after their TTL, and keeps rows written without one', async () => {
      const started = Date.now();
      await store.writeLatest('v', [row('short', 1, { x: 1 })], { ttlMs: 300 });
      await store.writeLatest('v', [row('forever', 1, { x: 1 })]);
      expect((await valuesOf('v', 'short', ['x'])).found).toBe(true);
      let read = await valuesOf('v', 'short', ['x']);
      while (read.found && Date.now() - started < 5000) {
        await new Promise((r) => setTimeout(r, 50));
        read = await valuesOf('v', 'short', ['x']);
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(read).toEqual({
        entityKey: 'short',
        found: false,
        eventTime: null,
        features: [{ status: 'NOT_FOUND', value: null }],
      });
      expect((await valuesOf('v', 'forever', ['x'])).found).toBe(true);
    });

    it('treats an expired row as absent, so a later write with an older event time is stored', async () => {
      await store.writeLatest('v', [row('e', 5000, { x: 'new' })], { ttlMs: 100 });
      await new Promise((r) => setTimeout(r, 250));
      expect(await store.writeLatest('v', [row('e', 10, { x: 'old' })])).toEqual({ written: 1, stale: 0 });
      expect(await valuesOf('v', 'e', ['x'])).toMatchObject({ eventTime: 10, features: [{ value: 'old' }] });
    });

    it('keeps value types: int64 beyond 2^53, floats, unicode strings, booleans, float lists and null', async () => {
      const values: Record<string, FeatureValue> = {
        big: 9007199254740993n,
        min: -(2n ** 63n),
        max: 2n ** 63n - 1n,
        float: 0.1,
        whole: 3,
        negZero: -0,
        nan: Number.NaN,
        inf: Number.NEGATIVE_INFINITY,
        text: 'Grüße, 世界 👋 {a}:%7D',
        empty: '',
        yes: true,
        no: false,
        list: [1.5, -0, 2e-300],
        none: null,
      };
      const names = Object.keys(values);
      await store.writeLatest('types', [row('e', 1, values)]);
      const [read] = await store.getMany('types', ['e'], names);
      read!.features.forEach((f, i) => {
        const expected = values[names[i]!];
        expect(f.status, names[i]).toBe('PRESENT');
        expect(typeof f.value, names[i]).toBe(typeof expected);
        if (typeof expected === 'number') expect(Object.is(f.value, expected), names[i]).toBe(true);
        else expect(f.value, names[i]).toEqual(expected);
      });
      expect(Object.is((read!.features[names.indexOf('list')]!.value as number[])[1], -0)).toBe(true);
    });

    it('answers a repeated read of an unchanged row the same, and the new values right after a write', async () => {
      await store.writeLatest('v', [row('e', 1, { a: 1, b: 'x' })]);
      const features = ['a', 'b'];
      const first = (await store.getMany('v', ['e'], features))[0]!;
      features[1] = 'a';
      const renamed = (await store.getMany('v', ['e'], features))[0]!;
      expect(renamed.features.map((f) => f.value)).toEqual([1, 1]);
      const again = (await store.getMany('v', ['e'], ['a', 'b']))[0]!;
      expect(again).toEqual(first);
      await store.writeLatest('v', [row('e', 2, { a: 2 })]);
      const after = (await store.getMany('v', ['e'], ['a', 'b']))[0]!;
      expect(after.eventTime).toBe(2);
      expect(after.features).toEqual([
        { status: 'PRESENT', value: 2 },
        { status: 'NOT_FOUND', value: null },
      ]);
    });

    it('hands every read its own float lists, so a caller changing one never changes a later read', async () => {
      await store.writeLatest('v', [row('e', 1, { list: [1, 2] })]);
      const first = (await store.getMany('v', ['e'], ['list']))[0]!;
      (first.features[0]!.value as number[]).push(3);
      const second = (await store.getMany('v', ['e'], ['list']))[0]!;
      expect(second.features[0]!.value).toEqual([1, 2]);
    });

    it('keeps entity keys and feature names that contain separators apart', async () => {
      const keys = ['}', '%7D', 'a:b', '{x}', 'a', 'a\u0000b', 'ü', '*'];
      await store.writeLatest(
        'v',
        keys.map((k, i) => row(k, i, { [`f:${k}`]: i, '{}': `n${i}` })),
      );
      const reads = await store.getMany('v', keys, ['{}']);
      expect(reads.map((r) => [r.entityKey, r.eventTime, r.features[0]!.value])).toEqual(
        keys.map((k, i) => [k, i, `n${i}`]),
      );
      expect((await store.getMany('v', ['a:b'], ['f:a:b']))[0]!.features[0]!.value).toBe(2);
    });

    it('keeps views isolated from each other', async () => {
      await store.writeLatest('users', [row('42', 1, { x: 'users' })]);
      await store.writeLatest('users_v2', [row('42', 9, { x: 'v2' })]);
      expect(await valuesOf('users', '42', ['x'])).toMatchObject({
        eventTime: 1,
        features: [{ value: 'users' }],
      });
      expect(await valuesOf('users_v2', '42', ['x'])).toMatchObject({
        eventTime: 9,
        features: [{ value: 'v2' }],
      });
      expect((await valuesOf('orders', '42', ['x'])).found).toBe(false);
    });

    it('deleteView removes every row of that view and nothing of any other view', async () => {
      const views = ['v', 'v2', 'v:x', 'v*', 'w'];
      for (const view of views) {
        await store.writeLatest(
          view,
          Array.from({ length: 30 }, (_, i) => row(`e${i}`, 1, { x: view })),
        );
      }
      await store.deleteView('v*');
      await store.deleteView('v');
      expect((await store.getMany('v', ['e0', 'e29'], ['x'])).map((r) => r.found)).toEqual([false, false]);
      expect((await store.getMany('v*', ['e0', 'e29'], ['x'])).map((r) => r.found)).toEqual([false, false]);
      for (const view of ['v2', 'v:x', 'w']) {
        const reads = await store.getMany(view, ['e0', 'e29'], ['x']);
        expect(reads.map((r) => r.features[0]!.value)).toEqual([view, view]);
      }
      await store.deleteView('never-written');
      expect(await store.writeLatest('v', [row('e0', 0, { x: 'again' })])).toEqual({ written: 1, stale: 0 });
    });

    it('rejects bad view names, event times, values, TTLs and duplicates with INVALID_ARGUMENT naming the argument', async () => {
      await expectInvalid(store.writeLatest('', [row('e', 1, { x: 1 })]), 'view');
      await expectInvalid(store.getMany('', ['e'], ['x']), 'view');
      await expectInvalid(store.deleteView(''), 'view');
      await expectInvalid(store.writeLatest('v', [row('e', Number.NaN, { x: 1 })]), 'rows[0].eventTime');
      await expectInvalid(
        store.writeLatest('v', [row('e', Number.POSITIVE_INFINITY, { x: 1 })]),
        'rows[0].eventTime',
      );
      await expectInvalid(store.writeLatest('v', [row('', 1, { x: 1 })]), 'rows[0].entityKey');
      await expectInvalid(store.writeLatest('v', [row('e', 1, { x: {} as never })]), 'rows[0].values.x');
      await expectInvalid(
        store.writeLatest('v', [row('e', 1, { when: new Date() as never })]),
        'rows[0].values.when',
      );
      await expectInvalid(
        store.writeLatest('v', [row('e', 1, { u: undefined as never })]),
        'rows[0].values.u',
      );
      await expectInvalid(store.writeLatest('v', [row('e', 1, { big: 2n ** 64n })]), 'rows[0].values.big');
      await expectInvalid(
        store.writeLatest('v', [row('e', 1, { x: 1 }), row('e', 2, { x: 2 })]),
        'rows[1].entityKey',
      );
      await expectInvalid(store.writeLatest('v', [row('e', 1, { x: 1 })], { ttlMs: 0 }), 'options.ttlMs');
      await expectInvalid(store.writeLatest('v', [row('e', 1, { x: 1 })], { ttlMs: 1.5 }), 'options.ttlMs');
      await expectInvalid(store.getMany('v', ['e', ''], ['x']), 'entityKeys[1]');
      await expectInvalid(store.getMany('v', ['e'], ['x', 7 as never]), 'features[1]');
    });

    it('writes nothing of a call when one of its rows is invalid', async () => {
      await expectInvalid(
        store.writeLatest('v', [row('good', 1, { x: 1 }), row('bad', 1, { x: {} as never })]),
        'rows[1].values.x',
      );
      expect((await valuesOf('v', 'good', ['x'])).found).toBe(false);
    });

    it('answers ping, closes twice safely and refuses work after close with STORE_UNAVAILABLE', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      const other = await h.openAnother();
      await other.close();
      await other.close();
      await expect(other.getMany('v', ['e'], ['x'])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
