import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { tempStoreDir } from '../helpers/servers.js';

const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER],
    sources: [activitySource()],
    featureViews: [userActivityView({ ttl: '30d' })],
    featureServices: [{ name: 'churn', features: ['user_activity:amount'] }],
  }),
);

const DAY = 86_400_000;
const T = Date.parse('2026-01-10T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

let dir: string;
let uploads: string;
let offline: OfflineStore;
let app: FastifyInstance;

beforeAll(async () => {
  dir = tempStoreDir('historical-file');
  uploads = mkdtempSync(join(tmpdir(), 'historical-uploads-'));
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, {
    dataDir: dir,
    logger: silentLogger,
  });
  const view = catalog.view('user_activity')!;
  await offline.ensureTable(viewTable(view.name), viewTableSchema(view));
  const meta = { transform_version: 1, run_id: 'r1' };
  await offline.append(viewTable(view.name), [
    { user_id: 1, amount: 1, country: 'de', event_timestamp: T - 2 * DAY, created_timestamp: T, ...meta },
    { user_id: 1, amount: 2, country: 'fr', event_timestamp: T - DAY, created_timestamp: T, ...meta },
    { user_id: 2, amount: 3, country: 'es', event_timestamp: T - DAY, created_timestamp: T, ...meta },
    { user_id: 2, amount: 4, country: 'it', event_timestamp: T - DAY, created_timestamp: T + DAY, ...meta },
  ]);
  app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline },
    isAccepting: () => true,
  });
  registerHistoricalRoutes(app, { offline, catalog, maxEntityRows: 100, tmpDir: uploads });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(uploads, { recursive: true, force: true });
});

const inline = [
  { user_id: 2, event_timestamp: iso(T) },
  { user_id: 1, event_timestamp: iso(T - DAY - 1) },
  { user_id: 1, event_timestamp: iso(T) },
  { user_id: 3, event_timestamp: iso(T) },
];
const csv = `user_id,event_timestamp\n${inline.map((r) => `${r.user_id},${r.event_timestamp}`).join('\n')}\n`;

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
}

/** A multipart/form-data body built by hand, as any HTTP client would send it. */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = 'historical-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const file = part.filename ? `; filename="${part.filename}"` : '';
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${file}\r\n`),
    );
    if (part.filename) chunks.push(Buffer.from('Content-Type: application/octet-stream\r\n'));
    chunks.push(Buffer.from('\r\n'), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

const upload = (parts: Part[], headers: Record<string, string> = {}) => {
  const body = multipart(parts);
  return app.inject({
    method: 'POST',
    url: '/v1/features/historical',
    payload: body.payload,
    headers: { ...body.headers, ...headers },
  });
};
const postJson = (payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/features/historical', payload, headers });

const csvFile = (text: string, filename = 'rows.csv'): Part => ({ name: 'entities', value: text, filename });
const features = (value: string): Part => ({ name: 'features', value });

/** Writes rows to a Parquet file with DuckDB and returns its bytes. */
async function parquetOf(select: string): Promise<Buffer> {
  const path = join(dir, `entities-${Math.random().toString(16).slice(2)}.parquet`);
  await offline.query(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  return readFileSync(path);
}

describe('POST /v1/features/historical with an entity file', () => {
  it('answers a CSV file exactly like the same rows inline, in file order', async () => {
    const fromJson = await postJson({
      entities: inline,
      features: ['user_activity:amount', 'user_activity:country'],
    });
    const fromFile = await upload([csvFile(csv), features('user_activity:amount,user_activity:country')]);
    expect(fromFile.statusCode, fromFile.body).toBe(200);
    expect(fromFile.json()).toEqual(fromJson.json());
    expect(fromFile.json().rows.map((r: { [k: string]: unknown }) => r['user_activity:amount'])).toEqual([
      4,
      1,
      2,
      null,
    ]);
  });

  it('takes repeated features fields, a feature service and a system time', async () => {
    const repeated = await upload([
      csvFile(csv),
      features('user_activity:amount'),
      features('user_activity:country'),
    ]);
    expect(Object.keys(repeated.json().rows[0])).toEqual([
      'user_id',
      'event_timestamp',
      'user_activity:amount',
      'user_activity:country',
    ]);
    const asOf = await upload([
      { name: 'featureService', value: 'churn' },
      csvFile(csv),
      { name: 'asOfSystemTime', value: iso(T) },
    ]);
    expect(asOf.statusCode, asOf.body).toBe(200);
    expect(asOf.json().rows[0]).toEqual({ user_id: 2, event_timestamp: iso(T), 'user_activity:amount': 3 });
  });

  it('reads a Parquet file with native types and answers Parquet identical to the inline form', async () => {
    const bytes = await parquetOf(
      `SELECT * FROM (VALUES (2::INTEGER, TIMESTAMP '2026-01-10 00:00:00'), (1, TIMESTAMP '2026-01-10 00:00:00'),
        (1, TIMESTAMP '2026-01-08 12:00:00')) t(user_id, event_timestamp)`,
    );
    const accept = { accept: PARQUET_MEDIA_TYPE };
    const res = await upload(
      [{ name: 'entities', value: bytes, filename: 'rows.parquet' }, features('user_activity:*')],
      accept,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain(PARQUET_MEDIA_TYPE);
    const rows = [
      { user_id: 2, event_timestamp: T },
      { user_id: 1, event_timestamp: T },
      { user_id: 1, event_timestamp: T - 1.5 * DAY },
    ];
    const expected = await postJson({ entities: rows, features: ['user_activity:*'] }, accept);
    expect(await readParquet(res.rawPayload)).toEqual(await readParquet(expected.rawPayload));
    expect((await readParquet(res.rawPayload)).map((r) => r['user_activity:amount'])).toEqual([4, 2, 1]);
  });

  it('names a missing join key or timestamp column and says what the file needs', async () => {
    const res = await upload([
      csvFile('id,event_timestamp\n1,2026-01-10T00:00:00Z\n'),
      features('user_activity:amount'),
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'entities.user_id' } });
    expect(res.json().error).toMatch(/no column "user_id".*add a "user_id" column \(int64\)/);
    const noTime = await upload([csvFile('user_id\n1\n'), features('user_activity:amount')]);
    expect(noTime.json().details.field).toBe('entities.event_timestamp');
  });

  it('refuses a column that is not a join key, naming it', async () => {
    const res = await upload([
      csvFile('user_id,event_timestamp,label\n1,0,1\n'),
      features('user_activity:amount'),
    ]);
    expect([res.statusCode, res.json().details.field]).toEqual([400, 'entities.label']);
  });

  it('names the row and column of the first bad value in the file, and why', async () => {
    const badTime = 'user_id,event_timestamp\n1,2026-01-10T00:00:00Z\n2,2026-01-10 00:00\n3,noon\n';
    const res = await upload([csvFile(badTime), features('user_activity:amount')]);
    expect(res.statusCode).toBe(400);
    expect(res.json().details.field).toBe('entities[1].event_timestamp');
    expect(res.json().error).toMatch(
      /"2026-01-10 00:00" is not a valid timestamp \(data row 2 of the file\).*zone/,
    );
    const badKey = await upload([
      csvFile('user_id,event_timestamp\n1.5,0\n'),
      features('user_activity:amount'),
    ]);
    expect(badKey.json().details.field).toBe('entities[0].user_id');
    const empty = await upload([
      csvFile('user_id,event_timestamp\n1,0\n,0\n'),
      features('user_activity:amount'),
    ]);
    expect(empty.json()).toMatchObject({ details: { field: 'entities[1].user_id' } });
    expect(empty.json().error).toMatch(/is empty/);
  });

  it('refuses an unreadable file, a missing file part, an unknown field and more rows than the limit', async () => {
    const garbage = await upload([
      { name: 'entities', value: 'not parquet', filename: 'rows.parquet' },
      features('user_activity:amount'),
    ]);
    expect([garbage.statusCode, garbage.json().details.field]).toEqual([400, 'entities']);
    const noFile = await upload([features('user_activity:amount')]);
    expect([noFile.statusCode, noFile.json().details.field]).toEqual([400, 'entities']);
    const unknown = await upload([
      csvFile(csv),
      features('user_activity:amount'),
      { name: 'limit', value: '1' },
    ]);
    expect(unknown.json().details.field).toBe('limit');
    const many = `user_id,event_timestamp\n${'1,0\n'.repeat(101)}`;
    const tooMany = await upload([csvFile(many), features('user_activity:amount')]);
    expect(tooMany.json()).toMatchObject({ details: { field: 'entities' } });
    expect(tooMany.json().error).toMatch(/101 rows, more than the limit of 100/);
  });

  it('never reads a server path named in a JSON body', async () => {
    const res = await postJson({
      entities: { path: '/etc/passwd', format: 'csv' },
      features: ['user_activity:amount'],
    });
    expect([res.statusCode, res.json().details.field]).toEqual([400, 'entities']);
  });

  it('removes every uploaded file once it has answered', async () => {
    await upload([csvFile(csv), features('user_activity:amount')]);
    await upload([csvFile('user_id\n1\n'), features('user_activity:amount')]);
    expect(readdirSync(uploads)).toEqual([]);
  });
});

async function readParquet(bytes: Buffer): Promise<Record<string, unknown>[]> {
  const path = join(dir, `answer-${Math.random().toString(16).slice(2)}.parquet`);
  writeFileSync(path, bytes);
  return offline.query(`SELECT * FROM read_parquet('${path}')`);
}
