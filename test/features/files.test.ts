import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerFileRoutes } from '../../src/api/routes/files.js';
import { registerIngestCommands } from '../../src/cli/ingest.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { eventId, parseEvents } from '../../src/features/ingest/events.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
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
    sources: [
      activitySource({ kind: 'batch' }),
      {
        name: 'wide',
        kind: 'batch',
        timestampField: 'ts',
        schema: {
          user_id: 'int64',
          n32: 'int32',
          x: 'float64',
          f: 'float32',
          s: 'string',
          b: 'bool',
          ts: 'timestamp',
          at: 'timestamp',
          v: 'float64[]',
        },
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
    ],
  }),
);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const TABLES = ['src_activity', 'fv_user_activity', 'fv_user_double'];

let dir: string;
let offline: OfflineStore;
let online: OnlineStore;
let ingestor: Ingestor;
let app: FastifyInstance;

const count = (table: string): Promise<number> => countRows(offline, table);

const counts = () => Promise.all(TABLES.map((t) => count(t)));

/** A multipart body with a `file` part and text fields. */
function multipart(fileName: string, content: Buffer | string, fields: Record<string, string> = {}) {
  const boundary = `----meridian${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  chunks.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

async function upload(source: string, fileName: string, content: Buffer | string, fields = {}, server = app) {
  const res = await server.inject({
    method: 'POST',
    url: `/v1/sources/${source}/files`,
    ...multipart(fileName, content, fields),
  });
  return { status: res.statusCode, body: res.json() };
}

async function makeApp(maxFileBytes?: number): Promise<FastifyInstance> {
  const server = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { offline, online },
    isAccepting: () => true,
  });
  registerFileRoutes(server, {
    offline,
    online,
    catalog,
    tmpDir: dir,
    ...(maxFileBytes ? { maxFileBytes } : {}),
  });
  await server.ready();
  return server;
}

const csv = (rows: (string | number)[][]) =>
  `user_id,amount,country,ts\n${rows.map((r) => r.join(',')).join('\n')}\n`;

async function onlineAmount(user: number) {
  const [read] = await online.getMany('user_activity', [String(user)], ['amount', 'country']);
  return read!;
}

beforeAll(async () => {
  dir = tempStoreDir('files');
  const ctx = { dataDir: dir, logger: silentLogger };
  offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  ingestor = createIngestor({ offline, online, catalog, maxDelayMs: 5 });
  app = await makeApp();
});

afterAll(async () => {
  await app?.close();
  await ingestor?.close();
  await online?.close();
  await offline?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('file ingestion', () => {
  it('loads a CSV file into the raw table, every view table and the newest row per entity online', async () => {
    const before = await counts();
    const file = csv([
      [101, 1.5, 'US', at(0)],
      [101, 2.5, 'FR', at(5)],
      [102, 3, 'DE', at(1)],
      [101, 9.5, 'IT', at(2)],
    ]);
    const { status, body } = await upload('activity', 'a.csv', file);
    expect(status).toBe(200);
    expect(body).toEqual({ rows: 4, accepted: 4, duplicates: 0, rejected: 0, errors: [] });
    expect(await counts()).toEqual(before.map((n) => n + 4));
    const doubled = await offline.query('SELECT amount_x2 FROM fv_user_double WHERE user_id = 102');
    expect(doubled).toEqual([{ amount_x2: 6 }]);
    const read = await onlineAmount(101);
    expect(read.eventTime).toBe(T0 + 5 * 60_000);
    expect(read.features.map((f) => f.value)).toEqual([2.5, 'FR']);
    const [doubledOnline] = await online.getMany('user_double', ['101'], ['amount_x2']);
    expect(doubledOnline!.features[0]!.value).toBe(5);
  });

  it('loads a Parquet file written by DuckDB', async () => {
    const path = join(dir, 'p.parquet');
    await offline.query(
      `COPY (SELECT 201::BIGINT AS user_id, 4.25::DOUBLE AS amount, 'NL' AS country,
             TIMESTAMP '2024-05-01 00:03:00' AS ts) TO '${path}' (FORMAT parquet)`,
    );
    const { status, body } = await upload('activity', 'p.parquet', readFileSync(path));
    expect(status).toBe(200);
    expect(body).toMatchObject({ rows: 1, accepted: 1, rejected: 0 });
    const read = await onlineAmount(201);
    expect(read.eventTime).toBe(T0 + 3 * 60_000);
    expect(read.features.map((f) => f.value)).toEqual([4.25, 'NL']);
  });

  it('loads a newline-delimited JSON file, taking its format from the format field', async () => {
    const lines = [
      { user_id: 301, amount: 7, country: 'SE', ts: at(1) },
      { user_id: '302', amount: 8.5, country: 'NO', ts: T0 + 60_000 },
    ].map((e) => JSON.stringify(e));
    const { status, body } = await upload('activity', 'events.txt', lines.join('\n'), { format: 'jsonl' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ rows: 2, accepted: 2 });
    expect((await onlineAmount(302)).features.map((f) => f.value)).toEqual([8.5, 'NO']);
    const raw = await offline.query('SELECT ts FROM src_activity WHERE user_id = 302');
    expect(raw).toEqual([{ ts: new Date(T0 + 60_000) }]);
  });

  it('rejects a whole file for one bad row in the middle, naming its row, column, value and reason', async () => {
    const before = await counts();
    const file = csv([
      [401, 1, 'US', at(0)],
      [402, 'lots', 'US', at(0)],
      [403, 1, 'US', at(0)],
    ]);
    const { status, body } = await upload('activity', 'bad.csv', file);
    expect(status).toBe(400);
    expect(body).toMatchObject({ rows: 3, accepted: 0, duplicates: 0, rejected: 1 });
    expect(body.error).toContain('bad.csv');
    expect(body.errors).toEqual([
      { row: 2, column: 'amount', value: 'lots', reason: expect.stringContaining('is not float64') },
    ]);
    expect(await counts()).toEqual(before);
  });

  it('rejects a file that lacks a schema column, naming the column in every row', async () => {
    const file = `user_id,amount,ts\n451,1,${at(0)}\n452,2,${at(0)}\n`;
    const { status, body } = await upload('activity', 'narrow.csv', file);
    expect(status).toBe(400);
    expect(body).toMatchObject({ rows: 2, accepted: 0, rejected: 2 });
    expect(body.errors).toEqual(
      [1, 2].map((row) => ({
        row,
        column: 'country',
        value: null,
        reason: 'is missing: the file has no column "country"',
      })),
    );
  });

  it('with quarantine loads the good rows and keeps the bad ones in the rejects table', async () => {
    const before = await counts();
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const file = `user_id,amount,country,ts\n501,1,US,${at(0)}\n,2,US,${at(0)}\n503,3,US,${future}\n504,4,US,${at(0)}\n`;
    const { status, body } = await upload('activity', 'mixed.csv', file, { onError: 'quarantine' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ rows: 4, accepted: 2, duplicates: 0, rejected: 2 });
    expect(body.errors.map((e: { row: number; column: string }) => [e.row, e.column])).toEqual([
      [2, 'user_id'],
      [3, 'ts'],
    ]);
    expect(await counts()).toEqual(before.map((n) => n + 2));
    const rejects = await offline.query(
      'SELECT file_name, "row", "column", "value", reason FROM rejects_activity ORDER BY "row"',
    );
    expect(rejects).toEqual([
      { file_name: 'mixed.csv', row: 2n, column: 'user_id', value: null, reason: 'is missing' },
      {
        file_name: 'mixed.csv',
        row: 3n,
        column: 'ts',
        value: future,
        reason: expect.stringContaining('future'),
      },
    ]);
  });

  it('never doubles the rows of a file uploaded twice', async () => {
    const file = csv([
      [601, 1, 'US', at(0)],
      [602, 2, 'US', at(0)],
      [602, 2, 'US', at(0)],
    ]);
    expect((await upload('activity', 'twice.csv', file)).body).toMatchObject({ accepted: 2, duplicates: 1 });
    const before = await counts();
    expect((await upload('activity', 'twice.csv', file)).body).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await counts()).toEqual(before);
  });

  it('loads the same file uploaded twice at once only once', async () => {
    const before = await counts();
    const file = csv([
      [651, 1, 'US', at(0)],
      [652, 2, 'US', at(0)],
    ]);
    const answers = await Promise.all([
      upload('activity', 'race.csv', file),
      upload('activity', 'race.csv', file),
    ]);
    expect(answers.map((a) => a.body.accepted).sort()).toEqual([0, 2]);
    expect(await counts()).toEqual(before.map((n) => n + 2));
  });

  it('treats a file row and the identical pushed event as one event, whichever comes first', async () => {
    expect(
      await ingestor.push('activity', [{ user_id: 701, amount: 0.1, country: 'a"\\é', ts: at(7) }]),
    ).toEqual({
      accepted: 1,
      duplicates: 0,
    });
    const file = csv([
      [701, '0.10', '"a""\\é"', at(7)],
      [702, 1e-7, 'x', T0 + 7 * 60_000],
    ]);
    expect((await upload('activity', 'same.csv', file)).body).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(
      await ingestor.push('activity', [{ user_id: '702', amount: 1e-7, country: 'x', ts: at(7) }]),
    ).toEqual({
      accepted: 0,
      duplicates: 1,
    });
  });

  it('answers 413 naming the limit for a file over the size limit, and writes nothing', async () => {
    const small = await makeApp(64);
    try {
      const before = await counts();
      const file = csv(Array.from({ length: 10 }, (_, i) => [801 + i, 1, 'US', at(0)]));
      const { status, body } = await upload('activity', 'big.csv', file, {}, small);
      expect(status).toBe(413);
      expect(body.error).toContain('64 bytes');
      expect(await counts()).toEqual(before);
    } finally {
      await small.close();
    }
  });

  it('answers 400 naming the file and the parser message for an unparseable file', async () => {
    const { status, body } = await upload('activity', 'broken.jsonl', '{"user_id": 1, "amount": \n');
    expect(status).toBe(400);
    expect(body.error).toMatch(/file "broken\.jsonl" could not be read as jsonl: .+/);
  });

  it('answers 404 for an unknown source', async () => {
    const { status, body } = await upload('nope', 'a.csv', csv([[1, 1, 'US', at(0)]]));
    expect(status).toBe(404);
    expect(body.error).toContain('"nope"');
  });

  it('gives a file row the same event id as the identical pushed event, for every field type', async () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
    const wideEvent = fc.record({
      user_id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
      n32: fc.integer(),
      x: fc.oneof(finite, fc.constantFrom(0.1, 1e-7, 1e21, 1e20, 5e-324, 3, -0, 123456789.125)),
      f: fc.double({ min: -1e38, max: 1e38, noNaN: true }),
      s: fc.string({ unit: 'binary', maxLength: 12 }).map((t) => t.replaceAll('\0', '')),
      b: fc.boolean(),
      ts: fc
        .date({ min: new Date('1900-01-01'), max: new Date(T0), noInvalidDate: true })
        .map((d) => d.toISOString()),
      at: fc
        .date({ min: new Date('1970-01-01'), max: new Date(T0), noInvalidDate: true })
        .map((d) => d.getTime()),
      v: fc.array(finite, { maxLength: 4 }),
    });
    const events = fc.sample(wideEvent, { numRuns: 300, seed: 42 });
    const source = catalog.source('wide')!;
    const parsed = parseEvents(source, events, { now: Date.now(), maxFutureMs: 86_400_000 });
    const expected = [...new Set(parsed.map((e) => eventId(source, e.values)))].sort();
    const file = events.map((e) => JSON.stringify(e)).join('\n');
    const { status, body } = await upload('wide', 'wide.jsonl', file);
    expect(status, JSON.stringify(body.errors)).toBe(200);
    const stored = await offline.query<{ event_id: string }>(
      'SELECT event_id FROM src_wide ORDER BY event_id',
    );
    expect(stored.map((r) => r.event_id)).toEqual(expected);
  });

  it('meridian ingest uploads a file to a listening server and prints the counts and first errors', async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const path = join(dir, 'cli.csv');
    writeFileSync(
      path,
      csv([
        [901, 1, 'US', at(0)],
        [902, 'x', 'US', at(0)],
        [903, 3, 'US', at(0)],
      ]),
    );
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const ingest = (...args: string[]) => {
      const program = new Command('meridian').exitOverride();
      registerIngestCommands(program);
      return program.parseAsync(['ingest', 'activity', path, '--url', url, ...args], { from: 'user' });
    };
    try {
      await expect(ingest()).rejects.toThrow(/cli\.csv": 1 row is bad/);
      await ingest('--on-error', 'quarantine');
    } finally {
      spy.mockRestore();
    }
    expect(out.join('')).toContain(
      'rows 3, accepted 0, duplicates 0, rejected 1\n  row 2, amount: "x": is not float64',
    );
    expect(out.join('')).toContain('rows 3, accepted 2, duplicates 0, rejected 1');
  });
});
