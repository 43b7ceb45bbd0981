import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerIngestRoutes } from '../../src/api/routes/ingest.js';
import { registerOnlineRoutes } from '../../src/api/routes/online.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { type Catalog, catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { getOnlineFeatures, getOnlineFeaturesJson } from '../../src/features/retrieval/online.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { FeatureValue, OnlineStore } from '../../src/stores/online/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { type RunningServer, serverAvailable, startRedis, tempStoreDir } from '../helpers/servers.js';

const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER, { name: 'merchant', joinKeys: ['merchant_id', 'region'] }],
    sources: [
      activitySource(),
      {
        name: 'profiles',
        kind: 'batch',
        timestampField: 'ts',
        schema: { user_id: 'int64', age: 'int64', signup: 'timestamp', ts: 'timestamp' },
      },
      {
        name: 'sales',
        kind: 'stream',
        timestampField: 'ts',
        schema: { merchant_id: 'int64', region: 'string', total: 'float64', ts: 'timestamp' },
      },
      {
        name: 'stream',
        kind: 'stream',
        timestampField: 'ts',
        schema: { user_id: 'int64', amount: 'float64', ts: 'timestamp' },
      },
    ],
    featureViews: [
      userActivityView({ ttl: '1h' }),
      {
        name: 'user_profile',
        entities: ['user'],
        source: 'profiles',
        features: { age: 'int64', signup: 'timestamp' },
      },
      { name: 'merchant_sales', entities: ['merchant'], source: 'sales', features: { total: 'float64' } },
      { name: 'stream_amount', entities: ['user'], source: 'stream', features: { amount: 'float64' } },
      {
        name: 'stream_plus',
        entities: ['user'],
        source: 'stream',
        features: { amount_plus: 'float64' },
        sql: 'SELECT user_id, amount + 1 AS amount_plus, ts FROM {{source}}',
      },
    ],
    featureServices: [
      { name: 'churn', features: ['user_activity:amount', 'user_activity:country', 'user_profile:*'] },
    ],
  }),
);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const NO_TIME = '1970-01-01T00:00:00Z';
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface Harness {
  app: FastifyInstance;
  offline: OfflineStore;
  online: OnlineStore;
  ingestor: Ingestor;
  clock: ManualClock;
}

async function openHarness(
  openOnline: (dir: string) => Promise<OnlineStore>,
): Promise<Harness & { close(): Promise<void> }> {
  const dir = tempStoreDir('online-route');
  const offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, {
    dataDir: dir,
    logger: silentLogger,
  });
  const online = await openOnline(dir);
  const ingestor = createIngestor({ offline, online, catalog, maxDelayMs: 5 });
  const clock = new ManualClock(T0 + 2 * 3_600_000);
  const app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline, online },
    isAccepting: () => true,
  });
  registerIngestRoutes(app, { ingestor });
  registerOnlineRoutes(app, { online, catalog, clock });
  await app.ready();
  return {
    app,
    offline,
    online,
    ingestor,
    clock,
    close: async () => {
      await app.close();
      await ingestor.close();
      await online.close();
      await offline.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function onlineRouteSuite(name: string, openOnline: (dir: string) => Promise<OnlineStore>): void {
  describe(`online features over ${name}`, () => {
    let h: Harness & { close(): Promise<void> };
    beforeAll(async () => {
      h = await openHarness(openOnline);
      const now = T0 + 2 * 3_600_000;
      await h.ingestor.push('activity', [
        { user_id: 1, amount: 10, country: 'US', ts: now - 600_000 },
        { user_id: 2, amount: 20, country: 'FR', ts: now - 2 * 3_600_000 },
      ]);
      await h.ingestor.push('profiles', [
        { user_id: 1, age: '9007199254740993', signup: '2020-01-02T03:04:05.678Z', ts: T0 },
      ]);
      await h.ingestor.push('sales', [{ merchant_id: 7, region: 'eu', total: 70.5, ts: T0 }]);
    });
    afterAll(() => h?.close());

    const post = (url: string, payload: unknown) =>
      h.app.inject({ method: 'POST', url, payload: payload as object });
    const request = {
      features: ['user_activity:amount', 'user_activity:country', 'user_profile:age', 'user_profile:signup'],
      entities: { user_id: [1, '2', 3] },
    };

    it("answers Feast's shape with PRESENT, OUTSIDE_MAX_AGE and NOT_FOUND, values in entity order", async () => {
      const now = T0 + 2 * 3_600_000;
      const reply = await post('/v1/features/online', request);
      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({
        metadata: { feature_names: ['user_id', ...request.features] },
        results: [
          {
            values: [1, 2, 3],
            statuses: ['PRESENT', 'PRESENT', 'PRESENT'],
            event_timestamps: [NO_TIME, NO_TIME, NO_TIME],
          },
          {
            values: [10, null, null],
            statuses: ['PRESENT', 'OUTSIDE_MAX_AGE', 'NOT_FOUND'],
            event_timestamps: [iso(now - 600_000), iso(now - 2 * 3_600_000), NO_TIME],
          },
          {
            values: ['US', null, null],
            statuses: ['PRESENT', 'OUTSIDE_MAX_AGE', 'NOT_FOUND'],
            event_timestamps: [iso(now - 600_000), iso(now - 2 * 3_600_000), NO_TIME],
          },
          {
            values: ['9007199254740993', null, null],
            statuses: ['PRESENT', 'NOT_FOUND', 'NOT_FOUND'],
            event_timestamps: [iso(T0), NO_TIME, NO_TIME],
          },
          {
            values: ['2020-01-02T03:04:05.678Z', null, null],
            statuses: ['PRESENT', 'NOT_FOUND', 'NOT_FOUND'],
            event_timestamps: [iso(T0), NO_TIME, NO_TIME],
          },
        ],
      });
    });

    it("answers the same body at Feast's /get-online-features path and for the feature service", async () => {
      const ours = (await post('/v1/features/online', request)).json();
      const feast = await post('/get-online-features', request);
      expect(feast.statusCode).toBe(200);
      expect(feast.json()).toEqual(ours);
      const service = await post('/get-online-features', {
        featureService: 'churn',
        entities: request.entities,
      });
      expect(service.json()).toEqual(ours);
    });

    it('counts an event exactly at now - ttl as PRESENT and one a millisecond older as OUTSIDE_MAX_AGE', async () => {
      const now = T0 + 2 * 3_600_000;
      const onlyAmount = { features: ['user_activity:amount'], entities: { user_id: [1] } };
      h.clock.set(now - 600_000 + 3_600_000);
      expect((await post('/v1/features/online', onlyAmount)).json().results[1].statuses).toEqual(['PRESENT']);
      h.clock.set(now - 600_000 + 3_600_001);
      expect((await post('/v1/features/online', onlyAmount)).json().results[1].statuses).toEqual([
        'OUTSIDE_MAX_AGE',
      ]);
      h.clock.set(now);
    });

    it('looks up multi-key entities with the join keys in view order', async () => {
      const reply = await post('/v1/features/online', {
        features: ['merchant_sales:total'],
        entities: { region: ['eu', 'us'], merchant_id: ['7', 7] },
      });
      expect(reply.json()).toEqual({
        metadata: { feature_names: ['merchant_id', 'region', 'merchant_sales:total'] },
        results: [
          { values: [7, 7], statuses: ['PRESENT', 'PRESENT'], event_timestamps: [NO_TIME, NO_TIME] },
          { values: ['eu', 'us'], statuses: ['PRESENT', 'PRESENT'], event_timestamps: [NO_TIME, NO_TIME] },
          { values: [70.5, null], statuses: ['PRESENT', 'NOT_FOUND'], event_timestamps: [iso(T0), NO_TIME] },
        ],
      });
    });

    it('rejects a pushed event with an empty join key before writing anything', async () => {
      const reply = await post('/v1/sources/sales/events', {
        events: [{ merchant_id: 8, region: '', total: 1, ts: T0 }],
      });
      expect(reply.statusCode).toBe(400);
      expect(reply.json().details.field).toBe('events[0].region');
      const rows = await h.offline.query('SELECT * FROM src_sales WHERE merchant_id = 8');
      expect(rows).toEqual([]);
    });

    it('reads each view with one getMany, however many of its features are asked for', async () => {
      const calls: string[] = [];
      const counting = Object.create(h.online) as OnlineStore;
      counting.getMany = (view, keys, features) => {
        calls.push(view);
        return h.online.getMany(view, keys, features);
      };
      await getOnlineFeatures(counting, catalog, request, { clock: h.clock });
      expect(calls.sort()).toEqual(['user_activity', 'user_profile']);
    });

    it('answers 400 or 404 naming the field of a bad request', async () => {
      const cases: [unknown, number, string][] = [
        [{ features: ['user_activity:amount'], entities: {} }, 400, 'entities.user_id'],
        [
          { features: ['user_activity:amount'], entities: { user_id: [1], usr_id: [1] } },
          400,
          'entities.usr_id',
        ],
        [{ features: ['user_activity:amount'], entities: { user_id: [1, 'x'] } }, 400, 'entities.user_id[1]'],
        [
          { features: ['merchant_sales:total'], entities: { merchant_id: [1, 2], region: ['eu'] } },
          400,
          'entities.region',
        ],
        [
          { features: ['merchant_sales:total'], entities: { merchant_id: [1], region: [''] } },
          400,
          'entities.region[0]',
        ],
        [{ features: ['user_activity:nope'], entities: { user_id: [1] } }, 404, 'features[0]'],
        [{ features: ['nope:amount'], entities: { user_id: [1] } }, 404, 'features[0]'],
        [{ features: [], entities: { user_id: [1] } }, 400, 'features'],
        [{ featureService: 'nope', entities: { user_id: [1] } }, 404, 'featureService'],
        [
          { featureService: 'churn', features: ['user_activity:amount'], entities: { user_id: [1] } },
          400,
          'featureService',
        ],
      ];
      for (const [body, status, field] of cases) {
        const reply = await post('/v1/features/online', body);
        expect(reply.statusCode, JSON.stringify(body)).toBe(status);
        expect(reply.json().details.field, reply.json().error).toBe(field);
        expect(reply.json().error).toContain(field);
      }
    });

    it('serves, after a random stream of events, the value the point-in-time rule gives after the last event', async () => {
      let run = 0;
      const events = fc.array(
        fc.record({
          user: fc.integer({ min: 1, max: 6 }),
          minute: fc.integer({ min: 0, max: 8 }),
          amount: fc.integer({ min: -1000, max: 1000 }).map((x) => x / 4),
        }),
        { minLength: 1, maxLength: 40 },
      );
      const plan = fc.record({
        events,
        chunks: fc.integer({ min: 1, max: 5 }),
        repeats: fc.integer({ min: 0, max: 5 }),
      });
      await fc.assert(
        fc.asyncProperty(plan, async ({ events, chunks, repeats }) => {
          run++;
          const base = run * 100;
          const stream = events.map((e) => ({
            user_id: base + e.user,
            amount: e.amount,
            ts: T0 + e.minute * 60_000,
          }));
          // Retried events: the same bytes again, later in the stream.
          const withRetries = [...stream, ...stream.slice(0, repeats)];
          const size = Math.ceil(withRetries.length / chunks);
          const parts = Array.from({ length: chunks }, (_, i) => withRetries.slice(i * size, (i + 1) * size));
          await Promise.all(parts.filter((p) => p.length > 0).map((p) => h.ingestor.push('stream', p)));
          const users = [1, 2, 3, 4, 5, 6].map((u) => base + u);
          const reply = await post('/v1/features/online', {
            features: ['stream_amount:amount', 'stream_plus:amount_plus'],
            entities: { user_id: users },
          });
          const body = reply.json();
          const expected = await pointInTime(h.offline, users, T0 + 3_600_000);
          expect(body.results[1].values).toEqual(users.map((u) => expected.amount.get(u) ?? null));
          expect(body.results[2].values).toEqual(users.map((u) => expected.plus.get(u) ?? null));
        }),
        { numRuns: 12 },
      );
    });
  });
}

/** The point-in-time values at `t`, straight from the view tables: newest event, then newest created. */
async function pointInTime(offline: OfflineStore, users: number[], t: number) {
  const latest = (table: string, column: string) =>
    offline.query<{ user_id: bigint; v: number }>(
      `SELECT user_id, ${column} AS v FROM (
         SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC, created_timestamp DESC) AS rn
         FROM ${table} WHERE event_timestamp <= $1 AND list_contains($2, user_id::VARCHAR)
       ) WHERE rn = 1`,
      [new Date(t), users.map(String)],
    );
  const toMap = (rows: { user_id: bigint; v: number }[]) =>
    new Map(rows.map((r) => [Number(r.user_id), r.v]));
  return {
    amount: toMap(await latest('fv_stream_amount', 'amount')),
    plus: toMap(await latest('fv_stream_plus', 'amount_plus')),
  };
}

onlineRouteSuite('LMDB', (dir) =>
  createOnlineStore(`lmdb:${join(dir, 'online')}`, { dataDir: dir, logger: silentLogger }),
);

describe.runIf(serverAvailable('redis'))('with a real Redis', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());
  onlineRouteSuite('Redis', (dir) => createOnlineStore(server.url, { dataDir: dir, logger: silentLogger }));
});

const TYPED = {
  f: 'float64',
  g: 'float32',
  i: 'int64',
  n: 'int32',
  s: 'string',
  b: 'bool',
  t: 'timestamp',
  l: 'float64[]',
} as const;

/** A catalog whose definitions can be swapped, as the registry's are by an apply. */
function swappableCatalog(first: unknown): Catalog & { swap(defs: unknown): void } {
  let current = catalogFromDefinitions(definitionsSchema.parse(first));
  return {
    entity: (name) => current.entity(name),
    source: (name) => current.source(name),
    view: (name) => current.view(name),
    service: (name) => current.service(name),
    viewsOfSource: (source) => current.viewsOfSource(source),
    views: () => current.views(),
    swap: (defs) => {
      current = catalogFromDefinitions(definitionsSchema.parse(defs));
    },
  };
}

const typedDefinitions = (features: Record<string, string>, service: string[]) => ({
  entities: [{ name: 'item', joinKeys: ['item_id'] }],
  sources: [
    {
      name: 'items',
      kind: 'stream',
      timestampField: 'ts',
      schema: { item_id: 'string', ts: 'timestamp', ...features },
    },
  ],
  featureViews: [{ name: 'typed', entities: ['item'], source: 'items', ttl: '1h', features }],
  featureServices: [{ name: 'svc', features: service }],
});

describe('online answers written as JSON text', () => {
  let dir: string;
  let online: OnlineStore;
  beforeAll(async () => {
    dir = tempStoreDir('online-json');
    online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, { dataDir: dir, logger: silentLogger });
  });
  afterAll(async () => {
    await online?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stored values as ingestion writes them for each declared type, or null. */
  const orNull = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constant(null));
  const typedValues = fc.record(
    {
      f: orNull(fc.double()),
      g: orNull(fc.double({ noNaN: true })),
      i: orNull(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      n: orNull(fc.integer()),
      s: orNull(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('"\\/\n\u0000\u2028', ''))),
      b: orNull(fc.boolean()),
      t: orNull(fc.date({ noInvalidDate: true }).map((d) => d.getTime())),
      l: orNull(fc.array(fc.double(), { maxLength: 3 })),
    },
    { requiredKeys: [] },
  );

  it('gives byte for byte the JSON.stringify of the object answer, for every type, status and repeat', async () => {
    const catalog = swappableCatalog(typedDefinitions(TYPED, ['typed:*']));
    const clock = new ManualClock(T0);
    let run = 0;
    const rows = fc.array(
      fc.record({
        age: fc.integer({ min: 0, max: 2 * 3_600_000 }),
        values: typedValues,
      }),
      { minLength: 1, maxLength: 6 },
    );
    const asked = fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(rows, asked, fc.boolean(), async (stored, entities, byService) => {
        run++;
        await online.writeLatest(
          'typed',
          stored.map((r, k) => ({
            entityKey: `${run}-${k}`,
            eventTime: T0 - r.age,
            values: Object.fromEntries(Object.entries(r.values).filter(([, v]) => v !== undefined)) as Record<
              string,
              FeatureValue
            >,
          })),
        );
        const request = {
          ...(byService ? { featureService: 'svc' } : { features: ['typed:t', 'typed:*', 'typed:f'] }),
          entities: { item_id: entities.map((k) => `${run}-${k}`) },
        };
        for (let repeat = 0; repeat < 2; repeat++) {
          const object = await getOnlineFeatures(online, catalog, request, { clock });
          const text = await getOnlineFeaturesJson(online, catalog, request, { clock });
          expect(text).toBe(JSON.stringify(object));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('follows a changed definition at once: new feature types and a changed feature service', async () => {
    const catalog = swappableCatalog(typedDefinitions({ x: 'float64', y: 'string' }, ['typed:x']));
    const clock = new ManualClock(T0);
    await online.writeLatest('typed', [{ entityKey: 'k', eventTime: T0, values: { x: T0, y: 'a' } }]);
    const byFeatures = { features: ['typed:x'], entities: { item_id: ['k'] } };
    const byService = { featureService: 'svc', entities: { item_id: ['k'] } };
    const read = async (request: unknown) =>
      JSON.parse(await getOnlineFeaturesJson(online, catalog, request, { clock }));
    expect((await read(byFeatures)).results[1].values).toEqual([T0]);
    expect((await read(byService)).metadata.feature_names).toEqual(['item_id', 'typed:x']);
    catalog.swap(typedDefinitions({ x: 'timestamp', y: 'string' }, ['typed:y', 'typed:x']));
    expect((await read(byFeatures)).results[1].values).toEqual([iso(T0)]);
    const service = await read(byService);
    expect(service.metadata.feature_names).toEqual(['item_id', 'typed:y', 'typed:x']);
    expect(service.results.map((r: { values: unknown[] }) => r.values)).toEqual([['k'], ['a'], [iso(T0)]]);
    catalog.swap(typedDefinitions({ y: 'string' }, ['typed:y']));
    const gone = await getOnlineFeaturesJson(online, catalog, byFeatures, { clock }).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'NOT_FOUND' });
  });
});
