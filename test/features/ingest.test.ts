import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerIngestRoutes } from '../../src/api/routes/ingest.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { type Catalog, catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { createIngestor, type Ingestor, type IngestorOptions } from '../../src/features/ingest/push.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';
import { countRows } from '../helpers/offline.js';
import { tempStoreDir } from '../helpers/servers.js';

const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER],
    sources: [
      activitySource(),
      {
        name: 'orders',
        kind: 'stream',
        timestampField: 'ts',
        idField: 'order_id',
        schema: { order_id: 'string', user_id: 'int64', total: 'float64', ts: 'timestamp' },
      },
      {
        name: 'clicks',
        kind: 'stream',
        timestampField: 'ts',
        schema: { user_id: 'int64', page: 'string', ts: 'timestamp' },
      },
      {
        name: 'visits',
        kind: 'stream',
        timestampField: 'ts',
        schema: { user_id: 'int64', page: 'string', ts: 'timestamp' },
      },
      {
        name: 'taps',
        kind: 'stream',
        timestampField: 'ts',
        schema: { user_id: 'int64', page: 'string', ts: 'timestamp' },
      },
    ],
    featureViews: [
      userActivityView(),
      {
        name: 'user_double',
        entities: ['user'],
        source: 'activity',
        features: { amount_x2: 'float64' },
        sql: 'SELECT user_id, amount * 2 AS amount_x2, ts FROM {{source}}',
      },
      {
        name: 'user_country_log',
        entities: ['user'],
        source: 'activity',
        online: false,
        features: { country: 'string' },
      },
      { name: 'order_totals', entities: ['user'], source: 'orders', features: { total: 'float64' } },
      {
        name: 'click_pages',
        entities: ['user'],
        source: 'clicks',
        features: { page: 'string' },
        sql: 'SELECT user_id, page FROM {{source}}',
      },
      {
        name: 'visit_counts',
        entities: ['user'],
        source: 'visits',
        features: { visits: 'float64', last_page: 'string' },
        sql: 'SELECT user_id, count(*) AS visits, arg_max(page, ts) AS last_page, max(ts) AS ts FROM {{source}} GROUP BY user_id',
      },
      {
        name: 'tap_pages',
        entities: ['user'],
        source: 'taps',
        features: { page: 'string' },
        sql: 'SELECT *, 1 AS extra FROM {{source}}',
      },
    ],
  }),
);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const event = (user: number, minutes: number, amount: number, country = 'US') => ({
  user_id: user,
  amount,
  country,
  ts: at(minutes),
});

let dir: string;
let offline: OfflineStore;
let online: OnlineStore;
let ingestor: Ingestor;

const TABLES = ['src_activity', 'fv_user_activity', 'fv_user_double', 'fv_user_country_log'];

const count = (table: string, where = 'true'): Promise<number> => countRows(offline, table, where);

const counts = () => Promise.all(TABLES.map((t) => count(t)));

async function onlineValue(view: string, user: number, features: string[]) {
  const [read] = await online.getMany(view, [String(user)], features);
  return read!;
}

function makeIngestor(options: Partial<IngestorOptions> = {}, cat: Catalog = catalog): Ingestor {
  return createIngestor({ offline, online, catalog: cat, maxDelayMs: 5, ...options });
}

beforeAll(async () => {
  dir = tempStoreDir('ingest');
  const ctx = { dataDir: dir, logger: silentLogger };
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  ingestor = makeIngestor();
});

afterAll(async () => {
  await ingestor?.close();
  await online?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('push ingestion', () => {
  it('writes raw events, every view table and the online views, with one run id per batch', async () => {
    const result = await ingestor.push('activity', [event(1, 0, 10, 'US'), event(2, 1, 20, 'FR')]);
    expect(result).toEqual({ accepted: 2, duplicates: 0 });
    expect(await counts()).toEqual([2, 2, 2, 2]);
    const doubled = await offline.query(
      'SELECT user_id, amount_x2, event_timestamp, transform_version FROM fv_user_double ORDER BY user_id',
    );
    expect(doubled).toEqual([
      { user_id: 1n, amount_x2: 20, event_timestamp: new Date(T0), transform_version: 1 },
      { user_id: 2n, amount_x2: 40, event_timestamp: new Date(T0 + 60_000), transform_version: 1 },
    ]);
    const runs = await offline.query<{ n: number }>(
      `SELECT count(DISTINCT run_id)::INTEGER AS n FROM (
         SELECT run_id FROM fv_user_activity UNION ALL SELECT run_id FROM fv_user_double)`,
    );
    expect(runs[0]!.n).toBe(1);
    expect(await onlineValue('user_activity', 2, ['amount', 'country'])).toEqual({
      entityKey: '2',
      found: true,
      eventTime: T0 + 60_000,
      features: [
        { status: 'PRESENT', value: 20 },
        { status: 'PRESENT', value: 'FR' },
      ],
    });
    expect((await onlineValue('user_double', 1, ['amount_x2'])).features[0]).toEqual({
      status: 'PRESENT',
      value: 20,
    });
    expect((await onlineValue('user_country_log', 1, ['country'])).found).toBe(false);
  });

  it('drops the events of a retried push, so a retry never doubles a row', async () => {
    const events = [event(10, 0, 1), event(11, 0, 2), event(12, 0, 3)];
    expect(await ingestor.push('activity', events)).toEqual({ accepted: 3, duplicates: 0 });
    const before = await counts();
    expect(await ingestor.push('activity', events)).toEqual({ accepted: 0, duplicates: 3 });
    expect(await ingestor.push('activity', [{ ...events[0]!, user_id: '10', ts: T0 }])).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    expect(await counts()).toEqual(before);
  });

  it('drops a repeated event inside one push and counts it as a duplicate', async () => {
    const e = event(20, 0, 5);
    expect(await ingestor.push('activity', [e, e, event(21, 0, 6)])).toEqual({ accepted: 2, duplicates: 1 });
    expect(await count('src_activity', 'user_id IN (20, 21)')).toBe(2);
  });

  it("dedups by the source's idField, whatever the other values", async () => {
    const order = { order_id: 'o-1', user_id: 30, total: 9.5, ts: at(0) };
    expect(await ingestor.push('orders', [order])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await ingestor.push('orders', [{ ...order, total: 100 }])).toEqual({ accepted: 0, duplicates: 1 });
    expect((await onlineValue('order_totals', 30, ['total'])).features[0]!.value).toBe(9.5);
    expect(await count('fv_order_totals')).toBe(1);
  });

  it('keeps a correction as a new row with a later created_timestamp, and the correction wins online', async () => {
    await ingestor.push('activity', [event(40, 5, 1)]);
    expect(await ingestor.push('activity', [event(40, 5, 7)])).toEqual({ accepted: 1, duplicates: 0 });
    const rows = await offline.query<{ amount: number; created: bigint }>(
      'SELECT amount, epoch_us(created_timestamp) AS created FROM fv_user_activity WHERE user_id = 40 ORDER BY created',
    );
    expect(rows.map((r) => r.amount)).toEqual([1, 7]);
    expect(rows[1]!.created).toBeGreaterThan(rows[0]!.created);
    expect((await onlineValue('user_activity', 40, ['amount'])).features[0]!.value).toBe(7);
  });

  it('gives a correction inside the same push the later created_timestamp, and it wins online', async () => {
    await ingestor.push('activity', [event(41, 5, 1), event(41, 5, 2)]);
    const rows = await offline.query<{ amount: number }>(
      'SELECT amount FROM fv_user_activity WHERE user_id = 41 ORDER BY created_timestamp',
    );
    expect(rows.map((r) => r.amount)).toEqual([1, 2]);
    expect((await onlineValue('user_activity', 41, ['amount'])).features[0]!.value).toBe(2);
    expect((await onlineValue('user_double', 41, ['amount_x2'])).features[0]!.value).toBe(4);
  });

  it('never lets an older event overwrite a newer one online, in one push or across pushes', async () => {
    await ingestor.push('activity', [event(50, 10, 10), event(50, 30, 30), event(50, 20, 20)]);
    expect(await onlineValue('user_activity', 50, ['amount'])).toMatchObject({
      eventTime: T0 + 30 * 60_000,
      features: [{ status: 'PRESENT', value: 30 }],
    });
    await ingestor.push('activity', [event(50, 25, 25)]);
    expect((await onlineValue('user_activity', 50, ['amount'])).features[0]!.value).toBe(30);
    expect(await count('fv_user_activity', 'user_id = 50')).toBe(4);
  });
});

describe('bad pushes', () => {
  it('rejects a wrong type naming the row and field, and writes nothing at all', async () => {
    const before = await counts();
    const events = [
      event(60, 0, 1),
      event(61, 0, 2),
      event(62, 0, 3),
      { ...event(63, 0, 4), amount: 'four' },
    ];
    const err = await expectInvalid(ingestor.push('activity', events), 'events[3].amount');
    expect(err.message).toMatch(/events\[3\]\.amount: "four" is not float64; send a number/);
    expect(await counts()).toEqual(before);
  });

  it('rejects a missing timestamp and an unknown field naming them, writing nothing', async () => {
    const before = await counts();
    const { ts: _, ...noTs } = event(64, 0, 1);
    await expectInvalid(ingestor.push('activity', [event(65, 0, 1), noTs]), 'events[1].ts');
    await expectInvalid(ingestor.push('activity', [{ ...event(66, 0, 1), amout: 2 }]), 'events[0].amout');
    expect(await counts()).toEqual(before);
  });

  it('rejects a timestamp more than the allowed margin in the future', async () => {
    const before = await counts();
    const future = { ...event(67, 0, 1), ts: new Date(Date.now() + 2 * 86_400_000).toISOString() };
    const err = await expectInvalid(ingestor.push('activity', [future]), 'events[0].ts');
    expect(err.message).toMatch(/in the future/);
    const strict = makeIngestor({ maxFutureMs: 1000 });
    const soon = { ...event(67, 0, 1), ts: new Date(Date.now() + 60_000).toISOString() };
    await expectInvalid(strict.push('activity', [soon]), 'events[0].ts');
    await strict.close();
    expect(await counts()).toEqual(before);
  });

  it('answers NOT_FOUND naming an unknown source', async () => {
    const err = await expectCode(ingestor.push('nope', [event(1, 0, 1)]), 'NOT_FOUND', 'source');
    expect(err.message).toContain('"nope"');
  });

  it("rejects a SQL view that does not select the source's timestamp field, naming it, with nothing written", async () => {
    const err = await expectCode(
      ingestor.push('clicks', [{ user_id: 1, page: '/', ts: at(0) }]),
      'FAILED_PRECONDITION',
    );
    expect(err.message).toMatch(/click_pages.*does not select ts/);
    expect(await count('src_clicks')).toBe(0);
    expect(await count('fv_click_pages')).toBe(0);
    const staged = await offline.query(
      "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'stg_%'",
    );
    expect(staged).toEqual([]);
  });
});

describe('SQL transforms', () => {
  it("run set-based over just this batch's events, with outputs cast to the view's types", async () => {
    const visit = (user: number, minute: number, page: string) => ({ user_id: user, page, ts: at(minute) });
    await ingestor.push('visits', [
      visit(1, 0, '/a'),
      visit(1, 2, '/c'),
      visit(1, 1, '/b'),
      visit(2, 0, '/x'),
    ]);
    await ingestor.push('visits', [visit(1, 3, '/d')]);
    const rows = await offline.query(
      'SELECT user_id, visits, last_page, event_timestamp FROM fv_visit_counts ORDER BY user_id, created_timestamp',
    );
    expect(rows).toEqual([
      { user_id: 1n, visits: 3, last_page: '/c', event_timestamp: new Date(T0 + 2 * 60_000) },
      { user_id: 1n, visits: 1, last_page: '/d', event_timestamp: new Date(T0 + 3 * 60_000) },
      { user_id: 2n, visits: 1, last_page: '/x', event_timestamp: new Date(T0) },
    ]);
    expect((await onlineValue('visit_counts', 1, ['visits', 'last_page'])).features).toEqual([
      { status: 'PRESENT', value: 1 },
      { status: 'PRESENT', value: '/d' },
    ]);
  });

  it('rejects a SQL view that selects a column the view does not have, naming it', async () => {
    const err = await expectCode(
      ingestor.push('taps', [{ user_id: 1, page: '/', ts: at(0) }]),
      'FAILED_PRECONDITION',
    );
    expect(err.message).toMatch(/tap_pages.*selects extra, which the view does not have/);
    expect(await count('src_taps')).toBe(0);
  });
});

describe('batching', () => {
  it('merges concurrent pushes into one batch and acknowledges each with its own counts', async () => {
    const merging = makeIngestor({ maxDelayMs: 100 });
    const pushes = [70, 71, 72, 73, 74].map((user, i) =>
      merging.push(
        'activity',
        Array.from({ length: i + 1 }, (_, k) => event(user, k, k)),
      ),
    );
    const results = await Promise.all(pushes);
    expect(results).toEqual([1, 2, 3, 4, 5].map((n) => ({ accepted: n, duplicates: 0 })));
    const runs = await offline.query<{ n: number; rows: number }>(
      'SELECT count(DISTINCT run_id)::INTEGER AS n, count(*)::INTEGER AS rows FROM fv_user_activity WHERE user_id BETWEEN 70 AND 74',
    );
    expect(runs[0]).toEqual({ n: 1, rows: 15 });
    await merging.close();
  });

  it('flushes by size before the timer when a batch is full', async () => {
    const sized = makeIngestor({ maxDelayMs: 60_000, maxBatchEvents: 3 });
    const started = Date.now();
    await sized.push('activity', [event(80, 0, 1), event(80, 1, 2), event(80, 2, 3)]);
    expect(Date.now() - started).toBeLessThan(10_000);
    await sized.close();
  });

  it('answers RESOURCE_EXHAUSTED, saying to retry, when the queue is full', async () => {
    const bounded = makeIngestor({ maxDelayMs: 200, maxQueuedEvents: 4 });
    const first = bounded.push('activity', [event(81, 0, 1), event(81, 1, 2), event(81, 2, 3)]);
    const err = await expectCode(
      bounded.push('activity', [event(82, 0, 1), event(82, 1, 2)]),
      'RESOURCE_EXHAUSTED',
    );
    expect(err.message).toMatch(/retry/);
    expect(err.httpStatus).toBe(429);
    await expect(first).resolves.toEqual({ accepted: 3, duplicates: 0 });
    await bounded.close();
  });

  it('writes what is queued on close and refuses pushes afterwards', async () => {
    const closing = makeIngestor({ maxDelayMs: 60_000 });
    const pending = closing.push('activity', [event(83, 0, 1)]);
    await closing.close();
    await expect(pending).resolves.toEqual({ accepted: 1, duplicates: 0 });
    await expectCode(closing.push('activity', [event(84, 0, 1)]), 'UNAVAILABLE');
  });
});

describe('POST /v1/sources/:source/events', () => {
  const app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: {},
    isAccepting: () => true,
  });
  beforeAll(async () => {
    registerIngestRoutes(app, { ingestor });
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (source: string, payload: unknown) =>
    app.inject({ method: 'POST', url: `/v1/sources/${source}/events`, payload: payload as object });

  it('answers accepted and duplicates once the events are stored', async () => {
    const events = [event(90, 0, 1), event(91, 0, 2)];
    const first = await post('activity', { events });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ accepted: 2, duplicates: 0 });
    expect((await post('activity', { events })).json()).toEqual({ accepted: 0, duplicates: 2 });
    expect(await count('src_activity', 'user_id IN (90, 91)')).toBe(2);
  });

  it('answers 400 naming the field of a bad event, 400 without events, 404 for an unknown source', async () => {
    const bad = await post('activity', { events: [event(92, 0, 1), { ...event(93, 0, 1), user_id: 'x' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'events[1].user_id' } });
    const missing = await post('activity', { rows: [] });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ details: { field: 'events' } });
    const unknown = await post('nope', { events: [] });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toContain('"nope"');
    expect(await count('src_activity', 'user_id IN (92, 93)')).toBe(0);
  });
});
