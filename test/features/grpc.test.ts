import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindGrpc, createGrpcServer, type GrpcSurface } from '../../src/api/grpc.js';
import { registerFeatureStoreGrpc } from '../../src/api/grpc-features.js';
import { featureStoreClass } from '../../src/api/grpc-proto.js';
import { timestampToMs, type WireTimestamp, type WireValue } from '../../src/api/grpc-values.js';
import { createHttpServer } from '../../src/api/http.js';
import { registerFileRoutes } from '../../src/api/routes/files.js';
import { registerIngestRoutes } from '../../src/api/routes/ingest.js';
import { registerOnlineRoutes } from '../../src/api/routes/online.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { isoTime } from '../../src/features/retrieval/online.js';
import { Platform } from '../../src/platform.js';
import { FeatureStoreGrpcClient } from '../../src/sdk/grpc-client.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { countRows } from '../helpers/offline.js';
import { tempStoreDir } from '../helpers/servers.js';

const catalog = catalogFromDefinitions(
  definitionsSchema.parse({
    entities: [USER],
    sources: [activitySource(), { ...activitySource({ kind: 'batch' }), name: 'mirror' }],
    featureViews: [
      userActivityView({ online: true, ttl: '3650d' }),
      {
        name: 'user_mirror',
        entities: ['user'],
        source: 'mirror',
        online: true,
        features: { amount: 'float64' },
      },
    ],
    featureServices: [{ name: 'churn', features: ['user_activity:amount', 'user_activity:country'] }],
  }),
);

const MAX_FILE_BYTES = 64 * 1024;
const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

interface Outcome {
  err: grpc.ServiceError | null;
  value: Record<string, unknown>;
}
type Callback = (err: grpc.ServiceError | null, value: Record<string, unknown>) => void;
/** The client grpc-js generates from the proto, with the methods these tests call. */
interface Raw extends grpc.Client {
  pushEvents(callback: Callback): grpc.ClientWritableStream<unknown>;
  uploadFile(callback: Callback): grpc.ClientWritableStream<unknown>;
  getOnlineFeatures(request: unknown, callback: Callback): void;
}

function rawClient(address: string): Raw {
  const FeatureStore = featureStoreClass();
  return new FeatureStore(address, grpc.credentials.createInsecure()) as unknown as Raw;
}

let dir: string;
let offline: OfflineStore;
let online: OnlineStore;
let ingestor: Ingestor;
let app: FastifyInstance;
let surface: GrpcSurface;
let raw: Raw;
let client: FeatureStoreGrpcClient;

/** A client-streaming call on the generated client: every message written, then the stream ended. */
function stream(method: 'pushEvents' | 'uploadFile', messages: unknown[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = raw[method]((err: grpc.ServiceError | null, value: Record<string, unknown>) =>
      resolve({ err, value }),
    );
    for (const message of messages) call.write(message);
    call.end();
  });
}

function unary(method: 'getOnlineFeatures', request: unknown): Promise<Outcome> {
  return new Promise((resolve) => {
    raw[method](request, (err: grpc.ServiceError | null, value: Record<string, unknown>) =>
      resolve({ err, value }),
    );
  });
}

const int64 = (v: number | string): WireValue => ({ int64_val: String(v) });
const event = (user: number | string, amount: number, country: string, minutes: number) => ({
  fields: {
    user_id: int64(user),
    amount: { double_val: amount },
    country: { string_val: country },
    ts: { timestamp_ms_val: String(T0 + minutes * 60_000) },
  },
});

const count = (table: string): Promise<number> => countRows(offline, table);

async function restUpload(source: string, fileName: string, content: Buffer | string, onError = 'reject') {
  const boundary = 'meridian-grpc-test';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="onError"\r\n\r\n${onError}\r\n`),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await app.inject({
    method: 'POST',
    url: `/v1/sources/${source}/files`,
    payload,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  return { status: res.statusCode, body: res.json() };
}

/** A gRPC online answer in REST's JSON shape. */
interface OnlineAnswer {
  metadata: { feature_names: { val: string[] } };
  results: { values: WireValue[]; statuses: string[]; event_timestamps: WireTimestamp[] }[];
}

function asJson(answer: Record<string, unknown>) {
  const response = answer as unknown as OnlineAnswer;
  const value = (v: WireValue & { kind?: string }) => {
    if (!v.kind) return null;
    if (v.kind === 'int64_val') return Number(v.int64_val);
    if (v.kind === 'timestamp_val') return isoTime(timestampToMs(v.timestamp_val!));
    return v[v.kind as keyof WireValue];
  };
  return {
    metadata: { feature_names: response.metadata.feature_names.val },
    results: response.results.map((column) => ({
      values: column.values.map(value),
      statuses: column.statuses,
      event_timestamps: column.event_timestamps.map((t) => isoTime(timestampToMs(t))),
    })),
  };
}

const csv = (rows: (string | number)[][]) =>
  `user_id,amount,country,ts\n${rows.map((r) => r.join(',')).join('\n')}\n`;

beforeAll(async () => {
  dir = tempStoreDir('grpc');
  const ctx = { dataDir: dir, logger: silentLogger };
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  ingestor = createIngestor({ offline, online, catalog, maxDelayMs: 5 });
  const stores = { offline, online };
  app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores,
    isAccepting: () => true,
  });
  registerIngestRoutes(app, { ingestor });
  registerFileRoutes(app, { offline, online, catalog, tmpDir: dir, maxFileBytes: MAX_FILE_BYTES });
  registerOnlineRoutes(app, { online, catalog });
  await app.ready();
  surface = createGrpcServer({ logger: silentLogger, stores, isAccepting: () => true });
  registerFeatureStoreGrpc(surface.server, {
    ingestor,
    catalog,
    offline,
    online,
    tmpDir: dir,
    maxFileBytes: MAX_FILE_BYTES,
  });
  const port = await bindGrpc(surface.server, '127.0.0.1', 0);
  raw = rawClient(`127.0.0.1:${port}`);
  client = new FeatureStoreGrpcClient({ url: `grpc://127.0.0.1:${port}` });
});

afterAll(async () => {
  raw?.close();
  client?.close();
  surface?.server.forceShutdown();
  await app?.close();
  await ingestor?.close();
  await online?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gRPC PushEvents', () => {
  it('stores every batch of the stream and answers once they are durable online and offline', async () => {
    const before = await count('src_activity');
    const { err, value } = await stream('pushEvents', [
      { source: 'activity', events: [event(1, 1.5, 'US', 0), event(2, 2.5, 'FR', 1)] },
      { source: 'activity', events: [event(1, 3.5, 'DE', 2)] },
    ]);
    expect(err).toBeNull();
    expect(value).toEqual({ accepted: '3', duplicates: '0' });
    expect(await count('src_activity')).toBe(before + 3);
    const [read] = await online.getMany('user_activity', ['1'], ['amount', 'country']);
    expect(read!.features.map((f) => f.value)).toEqual([3.5, 'DE']);
  });

  it('takes a stream of more requests than it pushes at once, answering the total', async () => {
    const before = await count('src_activity');
    const requests = Array.from({ length: 40 }, (_, r) => ({
      source: 'activity',
      events: Array.from({ length: 25 }, (_, e) => event(1000 + r * 25 + e, e, 'SE', r)),
    }));
    const { err, value } = await stream('pushEvents', requests);
    expect(err).toBeNull();
    expect(value).toEqual({ accepted: '1000', duplicates: '0' });
    expect(await count('src_activity')).toBe(before + 1000);
  });

  it('gives an event the same id as REST, so a REST retry of a gRPC push is a duplicate', async () => {
    const big = '9007199254740993';
    const result = await client.pushEvents([
      {
        source: 'activity',
        events: [{ user_id: BigInt(big), amount: 4, country: 'NL', ts: new Date(at(3)) }],
      },
      { source: 'activity', events: [{ user_id: 5, amount: 0.25, country: 'IT', ts: new Date(at(4)) }] },
    ]);
    expect(result).toEqual({ accepted: 2, duplicates: 0 });
    const retry = await app.inject({
      method: 'POST',
      url: '/v1/sources/activity/events',
      payload: {
        events: [
          { user_id: big, amount: 4.0, country: 'NL', ts: at(3) },
          { user_id: 5, amount: 0.25, country: 'IT', ts: T0 + 4 * 60_000 },
        ],
      },
    });
    expect(retry.json()).toEqual({ accepted: 0, duplicates: 2 });
  });

  it('ends the call naming requests[i].events[j].<field> and how many earlier requests were stored', async () => {
    const before = await count('src_activity');
    const bad = event(11, 1, 'US', 5);
    bad.fields.amount = { string_val: 'lots' } as never;
    const { err } = await stream('pushEvents', [
      { source: 'activity', events: [event(10, 1, 'US', 5)] },
      { source: 'activity', events: [event(12, 1, 'US', 5), bad] },
      { source: 'activity', events: [event(13, 1, 'US', 5)] },
    ]);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/^requests\[1\]\.events\[1\]\.amount: "lots" is not float64/);
    expect(err?.details).toContain('the 1 earlier request was already stored (1 events accepted)');
    expect(err?.metadata.get('meridian-error-code')).toEqual(['INVALID_ARGUMENT']);
    expect(await count('src_activity')).toBe(before + 1);
  });

  it('refuses an event that lacks a field, as REST does', async () => {
    const { err } = await stream('pushEvents', [
      {
        source: 'activity',
        events: [{ fields: { user_id: int64(1), amount: { double_val: 1 }, ts: int64(0) } }],
      },
    ]);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/^requests\[0\]\.events\[0\]\.country: is missing/);
  });

  it('answers NOT_FOUND for an unknown source, naming it', async () => {
    const { err } = await stream('pushEvents', [{ source: 'nope', events: [event(1, 1, 'US', 0)] }]);
    expect(err?.code).toBe(grpc.status.NOT_FOUND);
    expect(err?.details).toContain('requests[0].source: source "nope" does not exist');
    await expect(client.pushEvents([{ source: 'nope', events: [] }])).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('gRPC UploadFile', () => {
  const header = (source: string, filename: string, onError = 'ON_ERROR_REJECT') => ({
    header: { source, filename, on_error: onError },
  });

  it('loads a CSV in chunks with the same counts and errors as the REST upload', async () => {
    const file = csv([
      [301, 1.5, 'US', at(0)],
      [302, 2.5, 'FR', at(1)],
      [302, 2.5, 'FR', at(1)],
      [303, 'n/a', 'DE', at(2)],
    ]);
    const bytes = Buffer.from(file);
    const { err, value } = await stream('uploadFile', [
      header('activity', 'a.csv', 'ON_ERROR_QUARANTINE'),
      { chunk: bytes.subarray(0, 20) },
      { chunk: bytes.subarray(20) },
    ]);
    expect(err).toBeNull();
    const rest = await restUpload('mirror', 'a.csv', file, 'quarantine');
    expect(rest.status).toBe(200);
    expect(value).toMatchObject({ rows: '4', accepted: '2', duplicates: '1', rejected: '1' });
    const viaSdk = await client.upload('activity', [bytes], { filename: 'a.csv', onError: 'quarantine' });
    expect(viaSdk).toEqual({ ...rest.body, accepted: 0, duplicates: 3 });
    expect(viaSdk.errors[0]).toMatchObject({ row: 4, column: 'amount', value: 'n/a' });
  });

  it('stores a file uploaded over gRPC and REST at the same time once', async () => {
    const file = csv(Array.from({ length: 200 }, (_, i) => [900 + i, i, 'NO', at(i % 60)]));
    const [viaGrpc, viaRest] = await Promise.all([
      client.upload('activity', [Buffer.from(file)], { filename: 'twice.csv' }),
      restUpload('activity', 'twice.csv', file),
    ]);
    expect(viaGrpc.accepted + viaRest.body.accepted).toBe(200);
    expect(viaGrpc.duplicates + viaRest.body.duplicates).toBe(200);
  });

  it('loads a Parquet file with the same counts as the REST upload', async () => {
    const path = join(dir, 'p.parquet');
    await offline.query(
      `COPY (SELECT 400 + i::BIGINT AS user_id, i * 1.5 AS amount, 'NL' AS country,
             TIMESTAMP '2024-05-01 00:03:00' + i * INTERVAL 1 MINUTE AS ts FROM range(50) t(i)) TO '${path}' (FORMAT parquet)`,
    );
    const viaGrpc = await client.uploadFile('activity', path);
    const rest = await restUpload('mirror', 'p.parquet', readFileSync(path));
    expect(viaGrpc).toEqual(rest.body);
    expect(viaGrpc).toMatchObject({ rows: 50, accepted: 50, rejected: 0 });
  });

  it('rejects a file with a bad row whole, writing nothing and quoting the first errors', async () => {
    const before = await Promise.all(['src_activity', 'fv_user_activity'].map(count));
    const file = csv([
      [501, 1, 'US', at(0)],
      [502, 'abc', 'US', at(0)],
    ]);
    const { err } = await stream('uploadFile', [header('activity', 'bad.csv'), { chunk: Buffer.from(file) }]);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain('file "bad.csv": 1 row is bad, so nothing was written');
    expect(err?.details).toContain('row 2 amount "abc"');
    expect(await Promise.all(['src_activity', 'fv_user_activity'].map(count))).toEqual(before);
  });

  it('answers RESOURCE_EXHAUSTED for a file past the size limit REST enforces too', async () => {
    const big = Buffer.alloc(MAX_FILE_BYTES + 1, 'x');
    const before = await count('src_activity');
    await expect(client.upload('activity', [big], { filename: 'big.csv' })).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringContaining(`limit of ${MAX_FILE_BYTES} bytes`),
    });
    expect((await restUpload('activity', 'big.csv', big)).status).toBe(413);
    expect(await count('src_activity')).toBe(before);
  });

  it('refuses a stream that does not start with a header', async () => {
    const { err } = await stream('uploadFile', [{ chunk: Buffer.from('x') }]);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain('requests[0].header: is missing');
  });

  it('answers NOT_FOUND for an unknown source before reading the file', async () => {
    const { err } = await stream('uploadFile', [header('nope', 'a.csv'), { chunk: Buffer.from('a') }]);
    expect(err?.code).toBe(grpc.status.NOT_FOUND);
  });
});

describe('gRPC GetOnlineFeatures', () => {
  beforeAll(async () => {
    await client.pushEvents([
      { source: 'activity', events: [{ user_id: 701, amount: 7.5, country: 'PT', ts: new Date(at(9)) }] },
    ]);
  });

  it('answers what the REST route answers, for feature refs and for a feature service', async () => {
    const entities = { user_id: { val: [int64(701), int64(1), int64(999_999)] } };
    const rest = await app.inject({
      method: 'POST',
      url: '/v1/features/online',
      payload: {
        features: ['user_activity:amount', 'user_activity:country'],
        entities: { user_id: [701, 1, 999_999] },
      },
    });
    const byRefs = await unary('getOnlineFeatures', {
      features: { val: ['user_activity:amount', 'user_activity:country'] },
      entities,
    });
    expect(byRefs.err).toBeNull();
    expect(asJson(byRefs.value)).toEqual(rest.json());
    expect(rest.json().results[1].statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    const byService = await unary('getOnlineFeatures', { feature_service: 'churn', entities });
    expect(asJson(byService.value)).toEqual(rest.json());
  });

  it('names a misspelt join key as REST does', async () => {
    const { err } = await unary('getOnlineFeatures', {
      features: { val: ['user_activity:amount'] },
      entities: { userid: { val: [int64(1)] } },
    });
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain('entities.userid: is not a join key');
  });
});

describe('gRPC UploadFile temp files', () => {
  it('removes the temp copy of an upload once it is loaded', async () => {
    const uploads = () => readdirSync(dir).filter((name) => name.startsWith('meridian-upload-'));
    await client.upload('activity', [Buffer.from(csv([[801, 1, 'US', at(0)]]))], { filename: 'k.csv' });
    expect(uploads()).toEqual([]);
  });
});

describe('the platform', { timeout: 90_000 }, () => {
  const SHUTDOWN_MS = 1500;
  let platform: Platform;
  let platformDir: string;
  let platformClient: FeatureStoreGrpcClient;

  beforeAll(async () => {
    platformDir = tempStoreDir('grpc-platform');
    const config = loadConfig({
      cwd: platformDir,
      env: {},
      overrides: {
        target: 'features',
        dataDir: platformDir,
        http: { host: '127.0.0.1', port: 0 },
        grpc: { host: '127.0.0.1', port: 0 },
        onlineStore: 'lmdb',
        stateStore: 'pglite',
        offlineStore: 'duckdb',
        shutdownTimeoutMs: SHUTDOWN_MS,
      },
    });
    platform = await Platform.start(config, { logger: silentLogger });
    const applied = await fetch(`${platform.httpUrl}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        entities: [USER],
        sources: [activitySource()],
        featureViews: [userActivityView({ online: true, features: { amount: 'float64' } })],
      }),
    });
    expect(applied.status).toBe(200);
    platformClient = new FeatureStoreGrpcClient({ url: platform.grpcUrl });
  }, 90_000);

  afterAll(async () => {
    platformClient?.close();
    await platform?.stop();
    rmSync(platformDir, { recursive: true, force: true });
  });

  it('serves the FeatureStore service for the features target', async () => {
    const events = [{ user_id: 1, amount: 2.5, country: 'US', ts: new Date(at(0)) }];
    expect(await platformClient.pushEvents([{ source: 'activity', events }])).toEqual({
      accepted: 1,
      duplicates: 0,
    });
  });

  it('lets a stream that ends during shutdown finish, and cuts one still open after the shutdown timeout', async () => {
    const direct = rawClient(platform.grpcUrl.replace('grpc://', ''));
    const open = (): { call: grpc.ClientWritableStream<unknown>; done: Promise<Outcome> } => {
      let call: grpc.ClientWritableStream<unknown> | undefined;
      const done = new Promise<Outcome>((resolve) => {
        call = direct.pushEvents((err: grpc.ServiceError | null, value: Record<string, unknown>) =>
          resolve({ err, value }),
        );
      });
      return { call: call!, done };
    };
    const finishing = open();
    const lingering = open();
    finishing.call.write({ source: 'activity', events: [event(2, 1, 'US', 1)] });
    lingering.call.write({ source: 'activity', events: [event(3, 1, 'US', 1)] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const stopping = platform.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    finishing.call.write({ source: 'activity', events: [event(4, 1, 'US', 1)] });
    finishing.call.end();
    expect(await finishing.done).toEqual({ err: null, value: { accepted: '2', duplicates: '0' } });
    const cut = await lingering.done;
    await stopping;
    expect(cut.err?.code).toBeOneOf([grpc.status.CANCELLED, grpc.status.UNAVAILABLE, grpc.status.INTERNAL]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SHUTDOWN_MS - 100);
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_MS + 5000);
    direct.close();
  });
});
