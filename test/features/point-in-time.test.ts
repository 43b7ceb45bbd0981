import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { type Catalog, catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { viewTable, viewTableSchema } from '../../src/features/layout.js';
import { getHistoricalFeatures } from '../../src/features/retrieval/point-in-time.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineRow, OfflineStore } from '../../src/stores/offline/port.js';
import { USER } from '../helpers/catalog.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';
import { tempStoreDir } from '../helpers/servers.js';
import { type OracleFeature, pointInTimeOracle } from './oracle.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const SECOND = 1000;

/**
 * Three views named after `suffix`: `pu_` keyed by user (amount, count), `pc_` keyed by user and
 * merchant (amount, country), and `pm_`, whose table is never created.
 */
function testCatalog(suffix: string, ttl: { user?: string; pair?: string } = {}): Catalog {
  const view = (name: string, entities: string[], features: object, ttl?: string) => ({
    name,
    entities,
    source: 'payments',
    features,
    ...(ttl ? { ttl } : {}),
  });
  return catalogFromDefinitions(
    definitionsSchema.parse({
      entities: [USER, { name: 'merchant', joinKeys: ['merchant_id'] }],
      sources: [
        {
          name: 'payments',
          kind: 'stream',
          timestampField: 'ts',
          schema: {
            user_id: 'int64',
            merchant_id: 'string',
            amount: 'float64',
            count: 'int64',
            country: 'string',
            ts: 'timestamp',
          },
        },
      ],
      featureViews: [
        view(`pu_${suffix}`, ['user'], { amount: 'float64', count: 'int64' }, ttl.user),
        view(`pc_${suffix}`, ['user', 'merchant'], { amount: 'float64', country: 'string' }, ttl.pair),
        view(`pm_${suffix}`, ['user'], { amount: 'float64' }),
      ],
      featureServices: [{ name: `svc_${suffix}`, features: [`pu_${suffix}:amount`, `pc_${suffix}:country`] }],
    }),
  );
}

/** Times on a one-second grid plus -1, 0 or +1 ms, so TTL edges and equal times happen often. */
const gridTime = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min: -1, max: 1 })).map(([s, d]) => T0 + s * SECOND + d);
const users = fc.integer({ min: 1, max: 3 });
const merchants = fc.constantFrom('m1', 'm"2,x');

/** Few entities and event times so duplicates are common; created 0-20 s after the event (late rows). */
const viewRow = fc
  .record({
    user_id: users,
    merchant_id: merchants,
    eventS: fc.integer({ min: 0, max: 12 }),
    // Often 0 or 5, so rows tie on event and created time and the later append must win.
    delayS: fc.oneof(fc.constantFrom(0, 5), fc.integer({ min: 0, max: 20 })),
    amount: fc.option(
      fc.integer({ min: -1000, max: 1000 }).map((x) => x / 4),
      { nil: null },
    ),
    count: fc.option(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), { nil: null }),
    country: fc.option(fc.constantFrom('de', 'fr', '', 'a,"b'), { nil: null }),
  })
  .map(({ eventS, delayS, ...rest }) => ({
    ...rest,
    event_timestamp: T0 + eventS * SECOND,
    created_timestamp: T0 + (eventS + delayS) * SECOND,
  }));

const ttlSeconds = fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined });

/** Rows of both views, entity rows from before any data to after all of it, TTLs and a system time. */
const pointInTimeCase = fc.record({
  userRows: fc.array(viewRow, { maxLength: 40 }),
  pairRows: fc.array(viewRow, { maxLength: 40 }),
  entities: fc.array(
    fc.record({ user_id: users, merchant_id: merchants, event_timestamp: gridTime(-2, 16) }),
    {
      minLength: 1,
      maxLength: 25,
    },
  ),
  userTtlS: ttlSeconds,
  pairTtlS: ttlSeconds,
  asOf: fc.option(gridTime(0, 34), { nil: undefined }),
});

const meta = { transform_version: 1, run_id: 'run' };
const pick = (row: Record<string, unknown>, columns: string[]): OfflineRow =>
  Object.fromEntries([...columns, 'event_timestamp', 'created_timestamp'].map((c) => [c, row[c]]));

let dir: string;
let store: OfflineStore;

beforeAll(async () => {
  dir = tempStoreDir('pit');
  store = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, {
    dataDir: dir,
    logger: silentLogger,
  });
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Creates a view's table through the offline store port and appends the rows in order. */
async function ingest(catalog: Catalog, view: string, rows: OfflineRow[]): Promise<void> {
  const resolved = catalog.view(view)!;
  await store.ensureTable(viewTable(view), viewTableSchema(resolved));
  await store.append(
    viewTable(view),
    rows.map((row) => ({ ...row, ...meta })),
  );
}

async function dropViews(catalog: Catalog): Promise<void> {
  for (const view of catalog.views()) await store.query(`DROP TABLE IF EXISTS ${viewTable(view.name)}`);
}

/** The oracle's rows in the types DuckDB answers with: int64 as bigint, timestamps as Date. */
function asStored(row: Record<string, unknown>): Record<string, unknown> {
  return {
    ...row,
    user_id: BigInt(row.user_id as number),
    event_timestamp: new Date(row.event_timestamp as number),
  };
}

let run = 0;

describe('point-in-time retrieval against a brute-force oracle', () => {
  it('matches the oracle row for row on random data, TTL edges, corrections and system times', async () => {
    await fc.assert(
      fc.asyncProperty(pointInTimeCase, async (c) => {
        const s = `r${run++}`;
        const ttl = (sec?: number) => (sec === undefined ? undefined : `${sec}s`);
        const catalog = testCatalog(s, { user: ttl(c.userTtlS), pair: ttl(c.pairTtlS) });
        const userRows = c.userRows.map((r) => pick(r, ['user_id', 'amount', 'count']));
        const pairRows = c.pairRows.map((r) => pick(r, ['user_id', 'merchant_id', 'amount', 'country']));
        await ingest(catalog, `pu_${s}`, userRows);
        await ingest(catalog, `pc_${s}`, pairRows);
        try {
          const features: OracleFeature[] = [
            { view: `pu_${s}`, feature: 'amount', ref: `pu_${s}:amount` },
            { view: `pu_${s}`, feature: 'count', ref: `pu_${s}:count` },
            { view: `pc_${s}`, feature: 'amount', ref: `pc_${s}:amount` },
            { view: `pc_${s}`, feature: 'country', ref: `pc_${s}:country` },
            { view: `pm_${s}`, feature: 'amount', ref: `pm_${s}:amount` },
          ];
          const views = [
            { name: `pu_${s}`, keys: ['user_id'], ttlMs: c.userTtlS && c.userTtlS * SECOND, rows: userRows },
            {
              name: `pc_${s}`,
              keys: ['user_id', 'merchant_id'],
              ttlMs: c.pairTtlS && c.pairTtlS * SECOND,
              rows: pairRows,
            },
            { name: `pm_${s}`, keys: ['user_id'], ttlMs: undefined, rows: [] },
          ];
          const expected = pointInTimeOracle(views, c.entities, features, c.asOf).map(asStored);
          const refs = [`pu_${s}:*`, `pc_${s}:amount`, `pc_${s}:country`, `pm_${s}:amount`];
          const actual = await getHistoricalFeatures(store, catalog, c.entities, refs, {
            asOfSystemTime: c.asOf,
          });
          expect(actual).toEqual(expected);
        } finally {
          await dropViews(catalog);
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});

describe('getHistoricalFeatures', () => {
  const s = 'ex';
  const catalog = testCatalog(s, { user: '10s' });
  const at = (sec: number) => T0 + sec * SECOND;

  beforeAll(async () => {
    await ingest(catalog, `pu_${s}`, [
      { user_id: 1, amount: 1.5, count: 9007199254740993n, event_timestamp: at(0), created_timestamp: at(0) },
      { user_id: 1, amount: 2.5, count: 2n, event_timestamp: at(5), created_timestamp: at(6) },
    ]);
    await ingest(catalog, `pc_${s}`, [
      {
        user_id: 1,
        merchant_id: 'line\nbreak',
        amount: 7,
        country: '',
        event_timestamp: at(0),
        created_timestamp: at(0),
      },
    ]);
  });

  it('answers in input order with keys, event_timestamp and one column per feature', async () => {
    const rows = await getHistoricalFeatures(
      store,
      catalog,
      [
        { user_id: 1, merchant_id: 'line\nbreak', event_timestamp: new Date(at(6)).toISOString() },
        { user_id: '1', merchant_id: 'other', event_timestamp: at(3) },
        { user_id: 2, merchant_id: 'line\nbreak', event_timestamp: at(20) },
      ],
      [`pu_${s}:*`, `pc_${s}:country`],
    );
    expect(rows).toEqual([
      {
        user_id: 1n,
        merchant_id: 'line\nbreak',
        event_timestamp: new Date(at(6)),
        [`pu_${s}:amount`]: 2.5,
        [`pu_${s}:count`]: 2n,
        [`pc_${s}:country`]: '',
      },
      {
        user_id: 1n,
        merchant_id: 'other',
        event_timestamp: new Date(at(3)),
        [`pu_${s}:amount`]: 1.5,
        [`pu_${s}:count`]: 9007199254740993n,
        [`pc_${s}:country`]: null,
      },
      {
        user_id: 2n,
        merchant_id: 'line\nbreak',
        event_timestamp: new Date(at(20)),
        [`pu_${s}:amount`]: null,
        [`pu_${s}:count`]: null,
        [`pc_${s}:country`]: null,
      },
    ]);
  });

  it('resolves a feature service into its features', async () => {
    const rows = await getHistoricalFeatures(
      store,
      catalog,
      [{ user_id: 1, merchant_id: 'line\nbreak', event_timestamp: at(1) }],
      { featureService: `svc_${s}` },
    );
    expect(Object.keys(rows[0]!)).toEqual([
      'user_id',
      'merchant_id',
      'event_timestamp',
      `pu_${s}:amount`,
      `pc_${s}:country`,
    ]);
    expect(rows[0]![`pu_${s}:amount`]).toBe(1.5);
  });

  it('rebuilds the value as known at a system time before a late row was created', async () => {
    const entity = [{ user_id: 1, event_timestamp: at(7) }];
    const before = await getHistoricalFeatures(store, catalog, entity, [`pu_${s}:amount`], {
      asOfSystemTime: new Date(at(6) - 1).toISOString(),
    });
    const after = await getHistoricalFeatures(store, catalog, entity, [`pu_${s}:amount`], {
      asOfSystemTime: at(6),
    });
    expect([before[0]![`pu_${s}:amount`], after[0]![`pu_${s}:amount`]]).toEqual([1.5, 2.5]);
  });

  it('breaks a full tie (same event and creation time) in favour of the row appended last', async () => {
    const tie = testCatalog('tie');
    const row = (amount: number, created: number) => ({
      user_id: 1,
      amount,
      count: 1n,
      event_timestamp: at(5),
      created_timestamp: at(created),
    });
    await ingest(tie, 'pu_tie', [row(1, 6), row(2, 7), row(3, 7)]);
    await ingest(tie, 'pu_tie', [row(4, 6), row(5, 7), row(6, 5)]);
    const answer = await getHistoricalFeatures(
      store,
      tie,
      [{ user_id: 1, event_timestamp: at(9) }],
      ['pu_tie:amount'],
    );
    expect(answer[0]!['pu_tie:amount']).toBe(5);
    const asOf = await getHistoricalFeatures(
      store,
      tie,
      [{ user_id: 1, event_timestamp: at(9) }],
      ['pu_tie:amount'],
      {
        asOfSystemTime: at(6),
      },
    );
    expect(asOf[0]!['pu_tie:amount']).toBe(4);
  });

  const features = [`pu_${s}:amount`, `pc_${s}:amount`];
  const ok = { user_id: 1, merchant_id: 'm', event_timestamp: T0 };
  const get = (entities: unknown[], refs: unknown = features, options = {}) =>
    getHistoricalFeatures(store, catalog, entities, refs as string[], options);

  it('names the entity field that is missing or of the wrong type', async () => {
    await expectInvalid(get([ok, ok, ok, { merchant_id: 'm', event_timestamp: T0 }]), 'entities[3].user_id');
    await expectInvalid(get([{ ...ok, user_id: 1.5 }]), 'entities[0].user_id');
    await expectInvalid(get([{ ...ok, merchant_id: 7 }]), 'entities[0].merchant_id');
    await expectInvalid(get([{ ...ok, extra: 1 }]), 'entities[0].extra');
    await expectInvalid(get([ok, 'row']), 'entities[1]');
  });

  it('refuses timestamps that do not parse or have no zone', async () => {
    await expectInvalid(get([{ ...ok, event_timestamp: 'yesterday' }]), 'entities[0].event_timestamp');
    await expectInvalid(
      get([{ ...ok, event_timestamp: '2026-03-01T00:00:00' }]),
      'entities[0].event_timestamp',
    );
    await expectInvalid(get([{ user_id: 1, merchant_id: 'm' }]), 'entities[0].event_timestamp');
    await expectInvalid(get([ok], features, { asOfSystemTime: 'soon' }), 'asOfSystemTime');
  });

  it('answers NOT_FOUND naming an unknown view, feature or feature service', async () => {
    await expectCode(get([ok], [`pu_${s}:amount`, 'nope:amount']), 'NOT_FOUND', 'features[1]');
    await expectCode(get([ok], [`pu_${s}:nope`]), 'NOT_FOUND', 'features[0]');
    await expectCode(get([ok], { featureService: 'nope' }), 'NOT_FOUND', 'featureService');
  });

  it('refuses empty lists and more entity rows than the limit', async () => {
    await expectInvalid(get([]), 'entities');
    await expectInvalid(get([ok], []), 'features');
    await expectInvalid(get([ok, ok, ok], features, { maxEntityRows: 2 }), 'entities');
  });
});
