import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerLineageRoutes } from '../../src/api/routes/lineage.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { createFileLoader } from '../../src/features/ingest/files/load.js';
import { createIngestor, type Ingestor, type IngestorOptions } from '../../src/features/ingest/push.js';
import { createTransformPool, type TransformPool } from '../../src/features/ingest/transform-pool.js';
import { emptyState, planApply } from '../../src/features/plan.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { activitySource, USER } from '../helpers/catalog.js';
import { tempStoreDir } from '../helpers/servers.js';

const catalog = catalogFromDefinitions(
  planApply(emptyState(), {
    entities: [USER],
    sources: [activitySource({ features: { amount: 'float64' } })],
    featureViews: [
      { name: 'amounts', entities: ['user'], source: 'activity', features: { amount: 'float64' } },
      {
        name: 'big',
        entities: ['user'],
        views: ['amounts'],
        features: { amount: 'float64' },
        transform: '(rows) => rows.filter((r) => r.amount > 10)',
      },
    ],
  }).definitions,
);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

let dir: string;
let offline: OfflineStore;
let online: OnlineStore;
let pool: TransformPool;
let ingestor: Ingestor;
let app: FastifyInstance;

beforeAll(async () => {
  dir = tempStoreDir('lineage');
  const ctx = { dataDir: dir, logger: silentLogger };
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  pool = createTransformPool({ threads: 1 });
  const options: IngestorOptions = {
    offline,
    online,
    catalog,
    transforms: pool,
    maxDelayMs: 2,
  };
  ingestor = createIngestor(options);
  app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline, online },
    isAccepting: () => true,
  });
  registerLineageRoutes(app, { offline, catalog });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await ingestor?.close();
  await pool?.close();
  await online?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lineage = async (view: string, query = '') => {
  const res = await app.inject({ method: 'GET', url: `/v1/feature-views/${view}/lineage${query}` });
  return { status: res.statusCode, body: res.json() };
};

describe('GET /v1/feature-views/:name/lineage', () => {
  it('answers an empty list before any write', async () => {
    expect(await lineage('amounts')).toEqual({ status: 200, body: { view: 'amounts', lineage: [] } });
  });

  it('records each write of each view with its inputs, their time range, rows, run and path, newest first', async () => {
    await ingestor.push('activity', [
      { user_id: 1, amount: 5, ts: iso(0) },
      { user_id: 2, amount: 50, ts: iso(10) },
    ]);
    const path = join(dir, 'later.csv');
    writeFileSync(path, `user_id,amount,ts\n3,30,${iso(20)}\n3,40,${iso(25)}\n`);
    const loader = createFileLoader({ offline, online, catalog, transforms: pool });
    await loader.load('activity', { path, name: 'later.csv', format: 'csv' }, 'reject');

    const { status, body } = await lineage('big');
    expect(status).toBe(200);
    expect(body.lineage).toHaveLength(2);
    const [file, push] = body.lineage;
    expect(file).toMatchObject({
      view: 'big',
      transformVersion: 1,
      path: 'file',
      rowsWritten: 2,
      inputs: [{ kind: 'view', name: 'amounts', minEventTime: iso(20), maxEventTime: iso(25) }],
    });
    expect(push).toMatchObject({
      path: 'push',
      rowsWritten: 1,
      inputs: [{ kind: 'view', name: 'amounts', minEventTime: iso(0), maxEventTime: iso(10) }],
    });
    expect(Date.parse(file.writtenAt)).toBeGreaterThanOrEqual(Date.parse(push.writtenAt));

    const amounts = (await lineage('amounts')).body.lineage;
    expect(amounts.map((l: { path: string }) => l.path)).toEqual(['file', 'push']);
    expect(amounts[1]).toMatchObject({
      rowsWritten: 2,
      runId: push.runId,
      inputs: [{ kind: 'source', name: 'activity', minEventTime: iso(0), maxEventTime: iso(10) }],
    });
    expect(amounts[0].runId).toBe(file.runId);
    const runs = await offline.query<{ run_id: string }>('SELECT DISTINCT run_id FROM fv_big');
    expect(runs.map((r) => r.run_id).sort()).toEqual([file.runId, push.runId].sort());
  });

  it('answers only the newest records with limit', async () => {
    const { body } = await lineage('amounts', '?limit=1');
    expect(body.lineage).toHaveLength(1);
    expect(body.lineage[0].path).toBe('file');
  });

  it('rejects a bad limit and an unknown view', async () => {
    const bad = await lineage('amounts', '?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('limit');
    const unknown = await lineage('nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain('"nope"');
  });
});
