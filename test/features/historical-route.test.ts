import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { PARQUET_MEDIA_TYPE, registerHistoricalRoutes } from '../../src/api/routes/historical.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { viewTable, viewTableSchema } from '../../src/features/layout.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { ACTIVITY_FEATURES, activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { tempStoreDir } from '../helpers/servers.js';

const COLUMNS = { ...ACTIVITY_FEATURES, total: 'int64' } as const;
const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER],
    sources: [activitySource({ features: COLUMNS })],
    featureViews: [userActivityView({ ttl: '30d', features: COLUMNS })],
    featureServices: [{ name: 'churn', features: ['user_activity:amount'] }],
  }),
);

const DAY = 86_400_000;
const T = Date.parse('2026-01-10T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

let dir: string;
let offline: OfflineStore;
let app: FastifyInstance;

beforeAll(async () => {
  dir = tempStoreDir('historical-route');
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, {
    dataDir: dir,
    logger: silentLogger,
  });
  const view = catalog.view('user_activity')!;
  await offline.ensureTable(viewTable(view.name), viewTableSchema(view));
  const meta = { transform_version: 1, run_id: 'r1' };
  await offline.append(viewTable(view.name), [
    {
      user_id: 1,
      amount: 12.5,
      country: 'de',
      total: 2n ** 60n,
      event_timestamp: T - DAY,
      created_timestamp: T - DAY,
      ...meta,
    },
    {
      user_id: 1,
      amount: 13,
      country: 'fr',
      total: 3,
      event_timestamp: T - DAY,
      created_timestamp: T + DAY,
      ...meta,
    },
    {
      user_id: 2,
      amount: 4,
      country: 'es',
      total: 5,
      event_timestamp: T - 40 * DAY,
      created_timestamp: T - 40 * DAY,
      ...meta,
    },
  ]);
  app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline },
    isAccepting: () => true,
  });
  registerHistoricalRoutes(app, { offline, catalog, maxEntityRows: 100 });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

const entities = [
  { user_id: 2, event_timestamp: iso(T) },
  { user_id: 1, event_timestamp: T },
  { user_id: 1, event_timestamp: iso(T - 2 * DAY) },
];
const features = ['user_activity:*'];

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/features/historical', payload: payload as object, headers });

describe('POST /v1/features/historical', () => {
  it('answers JSON rows in input order, with ISO times, exact int64 and null out of range', async () => {
    const res = await post({ entities, features });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      rows: [
        {
          user_id: 2,
          event_timestamp: iso(T),
          'user_activity:amount': null,
          'user_activity:country': null,
          'user_activity:total': null,
        },
        {
          user_id: 1,
          event_timestamp: iso(T),
          'user_activity:amount': 13,
          'user_activity:country': 'fr',
          'user_activity:total': 3,
        },
        {
          user_id: 1,
          event_timestamp: iso(T - 2 * DAY),
          'user_activity:amount': null,
          'user_activity:country': null,
          'user_activity:total': null,
        },
      ],
    });
  });

  it('rebuilds the rows as of a system time before the correction, int64 beyond 2^53 as a string', async () => {
    const res = await post({ entities: [entities[1]], features, asOfSystemTime: iso(T) });
    expect(res.json().rows).toEqual([
      {
        user_id: 1,
        event_timestamp: iso(T),
        'user_activity:amount': 12.5,
        'user_activity:country': 'de',
        'user_activity:total': String(2n ** 60n),
      },
    ]);
  });

  it('accepts a feature service instead of a feature list', async () => {
    const res = await post({ entities: [entities[1]], featureService: 'churn' });
    expect(res.json().rows).toEqual([{ user_id: 1, event_timestamp: iso(T), 'user_activity:amount': 13 }]);
  });

  it('returns the same rows as Parquet when asked, and removes its temporary file', async () => {
    const before = leftovers();
    const res = await post({ entities, features }, { accept: PARQUET_MEDIA_TYPE });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain(PARQUET_MEDIA_TYPE);
    const readDir = mkdtempSync(join(tmpdir(), 'historical-read-'));
    try {
      const file = join(readDir, 'rows.parquet');
      writeFileSync(file, res.rawPayload);
      const parquetRows = await offline.query(`SELECT * FROM read_parquet('${file}')`);
      const json = (await post({ entities, features })).json().rows as Record<string, unknown>[];
      expect(parquetRows.map(wire)).toEqual(json);
    } finally {
      rmSync(readDir, { recursive: true, force: true });
    }
    await expect.poll(leftovers).toEqual(before);
  });

  it('answers 400 naming the field of a bad entity row', async () => {
    const res = await post({ entities: [entities[0], { user_id: 'x', event_timestamp: T }], features });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'entities[1].user_id' } });
    const bad = await post({ entities: [{ user_id: 1, event_timestamp: 'noon' }], features });
    expect(bad.json().details.field).toBe('entities[0].event_timestamp');
  });

  it('answers 400 for too many rows, a missing feature list, or both a list and a service', async () => {
    const many = Array.from({ length: 101 }, () => entities[0]);
    expect((await post({ entities: many, features })).json().details.field).toBe('entities');
    expect((await post({ entities })).json().details.field).toBe('features');
    const both = await post({ entities, features, featureService: 'churn' });
    expect([both.statusCode, both.json().details.field]).toEqual([400, 'featureService']);
    expect((await post([1])).json().details.field).toBe('body');
  });

  it('answers 404 naming an unknown feature view or service', async () => {
    const view = await post({ entities, features: ['nope:amount'] });
    expect([view.statusCode, view.json().details.field]).toEqual([404, 'features[0]']);
    const service = await post({ entities, featureService: 'nope' });
    expect([service.statusCode, service.json().details.field]).toEqual([404, 'featureService']);
  });
});

/** Parquet rows in the JSON route's wire types. */
function wire(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v,
    ]),
  );
}

function leftovers(): string[] {
  return readdirSync(tmpdir()).filter(
    (name) => name.startsWith('meridian-historical-') && existsSync(join(tmpdir(), name)),
  );
}
