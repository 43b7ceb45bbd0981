import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerMaterializeRoutes } from '../../src/api/routes/materialize.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { viewTable, viewTableSchema } from '../../src/features/layout.js';
import { materialize } from '../../src/features/materialize.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineRead, OnlineStore } from '../../src/stores/online/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { tempStoreDir } from '../helpers/servers.js';

const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER],
    sources: [
      activitySource({ kind: 'batch', features: { amount: 'float64', country: 'string', n: 'int64' } }),
      {
        name: 'profiles',
        kind: 'batch',
        timestampField: 'ts',
        schema: { user_id: 'int64', age: 'int64', signup: 'timestamp', ts: 'timestamp' },
      },
      { name: 'quiet', kind: 'batch', timestampField: 'ts', schema: { user_id: 'int64', ts: 'timestamp' } },
    ],
    featureViews: [
      userActivityView({ features: { amount: 'float64', country: 'string', n: 'int64' } }),
      {
        name: 'user_double',
        entities: ['user'],
        source: 'activity',
        features: { amount_x2: 'float64' },
        sql: 'SELECT user_id, amount * 2 AS amount_x2, ts FROM {{source}}',
      },
      {
        name: 'user_profile',
        entities: ['user'],
        source: 'profiles',
        features: { age: 'int64', signup: 'timestamp' },
      },
      { name: 'quiet_view', entities: ['user'], source: 'quiet', features: { user_id: 'int64' } },
      {
        name: 'offline_only',
        entities: ['user'],
        source: 'quiet',
        online: false,
        features: { user_id: 'int64' },
      },
    ],
  }),
);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const ACTIVITY = ['amount', 'country', 'n'];

let dir: string;
let offline: OfflineStore;
let online: OnlineStore;
let ingestor: Ingestor;
let app: FastifyInstance;
const stores = () => ({ offline, online, catalog });

const read = (view: string, users: number[], features: string[]): Promise<OnlineRead[]> =>
  online.getMany(
    view,
    users.map((u) => String(u)),
    features,
  );

async function post(body: unknown) {
  const res = await app.inject({ method: 'POST', url: '/v1/materialize', payload: body as object });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  dir = tempStoreDir('materialize');
  const ctx = { dataDir: dir, logger: silentLogger };
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  ingestor = createIngestor({ offline, online, catalog, maxDelayMs: 5 });
  app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline, online },
    isAccepting: () => true,
  });
  registerMaterializeRoutes(app, stores());
  await app.ready();
  await ingestor.push('activity', [
    { user_id: 1, amount: 1.5, country: 'US', n: 10, ts: at(0) },
    { user_id: 1, amount: 2.5, country: 'FR', n: String(2n ** 60n + 1n), ts: at(5) },
    { user_id: 2, amount: 3, country: 'DE', ts: at(1), n: 7 },
    { user_id: 1, amount: 9.5, country: 'IT', n: 3, ts: at(2) },
    { user_id: 3, amount: 4, country: 'NL', n: 4, ts: at(3) },
  ]);
  // Same event time as the first push of user 3, created later: it wins the tie.
  await ingestor.push('activity', [{ user_id: 3, amount: 5, country: 'BE', n: 5, ts: at(3) }]);
  await ingestor.push('profiles', [{ user_id: 1, age: 40, signup: at(-100), ts: at(1) }]);
});

afterAll(async () => {
  await app?.close();
  await ingestor?.close();
  await online?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('materialize', () => {
  it('restores exactly what ingestion wrote online after the online store is wiped', async () => {
    const users = [1, 2, 3];
    const before = {
      activity: await read('user_activity', users, ACTIVITY),
      double: await read('user_double', users, ['amount_x2']),
      profile: await read('user_profile', [1], ['age', 'signup']),
    };
    expect(before.activity[2]!.features.map((f) => f.value)).toEqual([5, 'BE', 5n]);
    for (const view of ['user_activity', 'user_double', 'user_profile']) await online.deleteView(view);
    expect((await read('user_activity', users, ACTIVITY)).every((r) => !r.found)).toBe(true);

    const result = await materialize(stores(), { batchRows: 2 });

    expect(result.views).toEqual({
      user_activity: { rows: 3, stale: 0 },
      user_double: { rows: 3, stale: 0 },
      user_profile: { rows: 1, stale: 0 },
      quiet_view: { rows: 0, stale: 0 },
    });
    expect(result.rows).toBe(7);
    expect(await read('user_activity', users, ACTIVITY)).toEqual(before.activity);
    expect(await read('user_double', users, ['amount_x2'])).toEqual(before.double);
    expect(await read('user_profile', [1], ['age', 'signup'])).toEqual(before.profile);
  });

  it('keeps an online value whose event is newer than the newest offline row', async () => {
    await online.writeLatest('user_activity', [
      { entityKey: '2', eventTime: at(60), values: { amount: 99, country: 'XX', n: 1n } },
    ]);
    const result = await materialize(stores(), { views: ['user_activity'] });
    expect(result.views.user_activity).toEqual({ rows: 2, stale: 1 });
    const [two] = await read('user_activity', [2], ACTIVITY);
    expect(two!.eventTime).toBe(at(60));
    expect(two!.features.map((f) => f.value)).toEqual([99, 'XX', 1n]);
  });

  it('loads rows written offline only, such as a backfill, taking the newest per entity', async () => {
    const view = catalog.view('user_profile')!;
    await offline.ensureTable(viewTable(view.name), viewTableSchema(view));
    const row = (user: number, age: number, minute: number) => ({
      user_id: user,
      age,
      signup: at(-10),
      event_timestamp: at(minute),
      created_timestamp: at(minute),
      transform_version: 1,
      run_id: 'backfill',
    });
    await offline.append(viewTable(view.name), [row(7, 20, 1), row(7, 21, 2), row(8, 30, 1)]);
    const result = await materialize(stores(), { views: ['user_profile'] });
    expect(result.views.user_profile).toEqual({ rows: 3, stale: 0 });
    const reads = await read('user_profile', [7, 8], ['age', 'signup']);
    expect(reads.map((r) => [r.eventTime, ...r.features.map((f) => f.value)])).toEqual([
      [at(2), 21n, at(-10)],
      [at(1), 30n, at(-10)],
    ]);
  });

  it('takes only rows with an event time in [from, to)', async () => {
    await online.deleteView('user_activity');
    const result = await materialize(stores(), { views: ['user_activity'], from: at(1), to: at(3) });
    expect(result).toEqual({ views: { user_activity: { rows: 2, stale: 0 } }, rows: 2 });
    const reads = await read('user_activity', [1, 2, 3], ACTIVITY);
    expect(reads.map((r) => r.eventTime)).toEqual([at(2), at(1), null]);
  });

  it('completes with zero rows when there is nothing to load', async () => {
    expect(await post({ views: ['quiet_view'] })).toEqual({
      status: 200,
      body: { views: { quiet_view: { rows: 0, stale: 0 } }, rows: 0 },
    });
    const empty = await post({ views: ['user_activity'], from: '2030-01-01T00:00:00Z' });
    expect(empty.body).toEqual({ views: { user_activity: { rows: 0, stale: 0 } }, rows: 0 });
  });

  it('answers the rows per view over REST', async () => {
    await online.deleteView('user_double');
    const { status, body } = await post({ views: ['user_double'], to: at(10) });
    expect(status).toBe(200);
    expect(body).toEqual({ views: { user_double: { rows: 3, stale: 0 } }, rows: 3 });
  });

  it.each([
    [{ views: 'user_activity' }, 'views', 400],
    [{ views: [] }, 'views', 400],
    [{ from: 'yesterday' }, 'from', 400],
    [{ to: -5 }, 'to', 400],
    [{ view: ['user_activity'] }, 'view', 400],
    [{ from: at(5), to: at(5) }, 'to', 400],
    [{ views: ['user_activity', 'nope'] }, 'views[1]', 404],
    [{ views: ['offline_only'] }, 'views[0]', 400],
  ])('rejects %j naming %s', async (body, field, status) => {
    const answer = await post(body);
    expect(answer.status).toBe(status);
    expect(answer.body.details.field).toBe(field);
    expect(answer.body.error).toContain(field);
  });
});
