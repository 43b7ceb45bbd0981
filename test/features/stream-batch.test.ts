import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerFileRoutes } from '../../src/api/routes/files.js';
import { registerIngestRoutes } from '../../src/api/routes/ingest.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { defineEntity, defineFeatureView, defineSource } from '../../src/features/definitions.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { createTransformPool, type TransformPool } from '../../src/features/ingest/transform-pool.js';
import { emptyState, planApply } from '../../src/features/plan.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { tempStoreDir } from '../helpers/servers.js';

const user = defineEntity({ name: 'user', joinKeys: ['user_id'] });
const activity = defineSource({
  name: 'activity',
  kind: 'stream',
  schema: { user_id: 'int64', amount: 'float64', country: 'string', ratio: 'float32', ts: 'timestamp' },
  timestampField: 'ts',
});
const userActivity = defineFeatureView({
  name: 'user_activity',
  entities: [user],
  source: activity,
  features: { amount: 'float64', country: 'string' },
});
const userSpend = defineFeatureView({
  name: 'user_spend',
  entities: [user],
  source: activity,
  features: { clipped: 'float64', is_large: 'bool' },
  sql: 'SELECT user_id, ts, LEAST(amount, 100) AS clipped, amount >= 100 AS is_large FROM {{source}}',
});
const userScores = defineFeatureView({
  name: 'user_scores',
  entities: [user],
  source: activity,
  features: { score: 'float64', hour: 'int32', cents: 'int64', ratio32: 'float32', seen: 'timestamp' },
  transform: (rows) =>
    rows.map((r) => {
      const weight = (country: string) => country.length;
      return {
        user_id: r.user_id,
        score: r.amount * 2 + weight(r.country) + r.ratio,
        hour: r.ts.getUTCHours(),
        cents: BigInt(Math.round(r.amount * 100)) + r.user_id,
        ratio32: r.ratio,
        seen: new Date(r.ts.getTime() + 1000),
        ts: r.ts,
      };
    }),
});
const userTiers = defineFeatureView({
  name: 'user_tiers',
  entities: [user],
  views: [userScores],
  features: { tier: 'string', cents_x2: 'int64' },
  transform: (rows) =>
    rows.map((r) => ({
      user_id: r.user_id,
      tier: (r.score ?? 0) > 150 ? 'gold' : 'basic',
      cents_x2: (r.cents ?? 0n) * 2n,
      event_timestamp: r.event_timestamp,
    })),
});
const userFlags = defineFeatureView({
  name: 'user_flags',
  entities: [user],
  views: [userSpend],
  features: { flag: 'string' },
  sql: "SELECT user_id, event_timestamp, CASE WHEN is_large THEN 'large' ELSE 'small' END AS flag FROM {{user_spend}}",
});

const VIEWS = [userActivity, userSpend, userScores, userTiers, userFlags];
const catalog = catalogFromDefinitions(
  planApply(emptyState(), { entities: [user], sources: [activity], featureViews: VIEWS }).definitions,
);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const USERS = 12;
/** Deterministic events: 3 per user, distinct timestamps, amounts on both sides of the SQL threshold. */
const EVENTS = Array.from({ length: USERS * 3 }, (_, i) => ({
  user_id: (i % USERS) + 1,
  amount: ((i * 37) % 190) + 0.25,
  country: ['US', 'FR', 'DEU', 'Brazil'][i % 4]!,
  ratio: (i % 7) / 3,
  ts: new Date(T0 + i * 97_000).toISOString(),
}));

interface Side {
  offline: OfflineStore;
  online: OnlineStore;
  app: FastifyInstance;
  ingestor: Ingestor;
}

let dir: string;
let pool: TransformPool;
let push: Side;

async function openSide(name: string): Promise<Side> {
  const ctx = { dataDir: dir, logger: silentLogger };
  const offline = await createOfflineStore(`duckdb:${join(dir, `${name}.duckdb`)}`, ctx);
  const online = await createOnlineStore(`lmdb:${join(dir, `${name}-online`)}`, ctx);
  const app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline, online },
    isAccepting: () => true,
  });
  const stores = { offline, online, catalog, transforms: pool };
  const ingestor = createIngestor({ ...stores, maxDelayMs: 2 });
  registerIngestRoutes(app, { ingestor });
  registerFileRoutes(app, { ...stores, tmpDir: dir });
  await app.ready();
  return { offline, online, app, ingestor };
}

async function closeSide(side: Side | undefined): Promise<void> {
  await side?.ingestor.close();
  await side?.app.close();
  await side?.online.close();
  await side?.offline.close();
}

function csvOf(events: typeof EVENTS): string {
  const header = Object.keys(events[0]!).join(',');
  return `${header}\n${events.map((e) => Object.values(e).join(',')).join('\n')}\n`;
}

function multipart(fileName: string, content: Buffer) {
  const boundary = '----meridianstreambatch';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const payload = Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A view's rows without the columns that differ by path (created_timestamp, run_id). */
async function viewRows(side: Side, view: { name: string; features: Record<string, string> }) {
  const columns = ['user_id', ...Object.keys(view.features), 'event_timestamp'].map((c) => `"${c}"`);
  return side.offline.query(
    `SELECT ${columns.join(', ')}, transform_version FROM "fv_${view.name}" ORDER BY ${columns.join(', ')}`,
  );
}

async function onlineRows(side: Side, view: { name: string; features: Record<string, string> }) {
  const keys = Array.from({ length: USERS }, (_, i) => String(i + 1));
  return side.online.getMany(view.name, keys, Object.keys(view.features));
}

/** Writes the events as a CSV file, or as a Parquet file with native column types (DuckDB's COPY). */
async function eventsFile(format: 'csv' | 'parquet'): Promise<{ name: string; content: Buffer }> {
  const csv = join(dir, 'events.csv');
  writeFileSync(csv, csvOf(EVENTS));
  if (format === 'csv') return { name: 'events.csv', content: readFileSync(csv) };
  const parquet = join(dir, 'events.parquet');
  await push.offline.query(
    `COPY (SELECT user_id::BIGINT AS user_id, amount::DOUBLE AS amount, country, ratio::FLOAT AS ratio,
             ts::TIMESTAMP AS ts FROM read_csv('${csv}', all_varchar = true))
     TO '${parquet}' (FORMAT parquet)`,
  );
  return { name: 'events.parquet', content: readFileSync(parquet) };
}

beforeAll(async () => {
  dir = tempStoreDir('stream-batch');
  pool = createTransformPool({ threads: 2 });
  push = await openSide('push');
  for (let i = 0; i < EVENTS.length; i += 10) {
    const res = await push.app.inject({
      method: 'POST',
      url: '/v1/sources/activity/events',
      payload: { events: EVENTS.slice(i, i + 10) },
    });
    expect(res.statusCode, res.body).toBe(200);
  }
});

afterAll(async () => {
  await closeSide(push);
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('streaming and batch give the same values', () => {
  it.each(['csv', 'parquet'] as const)(
    'computes identical view rows and online values from pushes and from a %s file of the same events',
    async (format) => {
      const file = await openSide(`file-${format}`);
      try {
        const { name, content } = await eventsFile(format);
        const res = await file.app.inject({
          method: 'POST',
          url: '/v1/sources/activity/files',
          ...multipart(name, content),
        });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ accepted: EVENTS.length, rejected: 0 });
        for (const view of VIEWS) {
          const streamed = await viewRows(push, view);
          expect(streamed, view.name).toHaveLength(EVENTS.length);
          expect(await viewRows(file, view), view.name).toEqual(streamed);
          const online = await onlineRows(push, view);
          expect(online.every((read) => read.found)).toBe(true);
          expect(await onlineRows(file, view), view.name).toEqual(online);
        }
      } finally {
        await closeSide(file);
      }
    },
  );
});
