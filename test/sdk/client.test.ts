import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeridianClient } from '../../src/sdk/client.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';
import { type MeridianProcess, startMeridian } from '../helpers/meridian-process.js';
import { freePort } from '../helpers/servers.js';

const definitions = {
  entities: [{ name: 'user', joinKeys: ['user_id'] }],
  sources: [
    {
      name: 'clicks',
      kind: 'stream',
      timestampField: 'ts',
      idField: 'id',
      schema: { id: 'string', user_id: 'int64', amount: 'float64', ts: 'timestamp' },
    },
  ],
  featureViews: [
    { name: 'user_clicks', entities: ['user'], source: 'clicks', features: { amount: 'float64' } },
  ],
  featureServices: [{ name: 'clicks_model', features: ['user_clicks:amount'] }],
} as const;

const events = [
  { id: 'a', user_id: 1, amount: 5, ts: '2026-11-20T10:00:00Z' },
  { id: 'b', user_id: 1, amount: 7, ts: '2026-11-21T10:00:00Z' },
  { id: 'c', user_id: 2, amount: 9, ts: '2026-11-21T10:00:00Z' },
];

const entityRows = [
  { user_id: 1, event_timestamp: '2026-11-20T12:00:00Z' },
  { user_id: 2, event_timestamp: Date.parse('2026-11-19T00:00:00Z') },
  { user_id: 1, event_timestamp: new Date('2026-11-22T00:00:00Z') },
];
const expectedRows = [
  { user_id: 1, event_timestamp: '2026-11-20T12:00:00.000Z', 'user_clicks:amount': 5 },
  { user_id: 2, event_timestamp: '2026-11-19T00:00:00.000Z', 'user_clicks:amount': null },
  { user_id: 1, event_timestamp: '2026-11-22T00:00:00.000Z', 'user_clicks:amount': 7 },
];

describe('MeridianClient against a running server', { timeout: 120_000 }, () => {
  let dataDir: string;
  let work: string;
  let running: MeridianProcess;
  let client: MeridianClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-sdk-'));
    work = mkdtempSync(join(tmpdir(), 'meridian-sdk-files-'));
    running = await startMeridian(['--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0']);
    client = new MeridianClient({ url: running.httpUrl });
    await client.apply(definitions);
  }, 120_000);

  afterAll(async () => {
    await running?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('pushes events once: a retried push counts its events as duplicates', async () => {
    expect(await client.push('clicks', events)).toEqual({ accepted: 3, duplicates: 0 });
    expect(await client.push('clicks', events)).toEqual({ accepted: 0, duplicates: 3 });
  });

  it('reads the latest online values with a status per value, by feature list or service', async () => {
    const online = await client.getOnlineFeatures({ user_id: [1, 3] }, ['user_clicks:amount']);
    expect(online.metadata.feature_names).toEqual(['user_id', 'user_clicks:amount']);
    expect(online.results[1]).toMatchObject({ values: [7, null], statuses: ['PRESENT', 'NOT_FOUND'] });
    const byService = await client.getOnlineFeatures({ user_id: [2] }, { featureService: 'clicks_model' });
    expect(byService.results[1]!.values).toEqual([9]);
  });

  it('answers historical rows in input order from inline rows and from a CSV file alike', async () => {
    expect(await client.getHistoricalFeatures(entityRows, ['user_clicks:amount'])).toEqual(expectedRows);
    const file = join(work, 'rows.csv');
    writeFileSync(
      file,
      'user_id,event_timestamp\n1,2026-11-20T12:00:00Z\n2,2026-11-19T00:00:00Z\n1,2026-11-22T00:00:00Z\n',
    );
    expect(await client.getHistoricalFeatures({ file }, { featureService: 'clicks_model' })).toEqual(
      expectedRows,
    );
    const before = await client.getHistoricalFeatures(entityRows, ['user_clicks:amount'], {
      asOfSystemTime: new Date(Date.now() - 3_600_000),
    });
    expect(before.map((r) => r['user_clicks:amount'])).toEqual([null, null, null]);
  });

  it('streams a Parquet answer to a file and gives CSV bytes back, each with its row count', async () => {
    const out = join(work, 'training.parquet');
    const parquet = await client.getHistoricalFeatures(entityRows, ['user_clicks:amount'], {
      format: 'parquet',
      out,
    });
    expect(parquet).toEqual({ rows: 3 });
    expect(readFileSync(out).subarray(0, 4).toString()).toBe('PAR1');
    const csv = await client.getHistoricalFeatures(entityRows, ['user_clicks:amount'], { format: 'csv' });
    expect(csv.rows).toBe(3);
    expect(Buffer.from(csv.bytes!).toString().split('\n').slice(0, 2)).toEqual([
      'user_id,event_timestamp,user_clicks:amount',
      '1,2026-11-20T12:00:00.000Z,5.0',
    ]);
  });

  it("fails with the server's own code, message and field", async () => {
    const unknown = await expectCode(client.getHistoricalFeatures(entityRows, ['nope:amount']), 'NOT_FOUND');
    expect(unknown.message).toContain('nope');
    await expectInvalid(
      client.getHistoricalFeatures([{ user_id: 'x', event_timestamp: 0 }], ['user_clicks:amount']),
      'entities[0].user_id',
    );
    await expectCode(client.push('nope', events), 'NOT_FOUND');
    await expectInvalid(
      client.getOnlineFeatures({ account: [1] }, ['user_clicks:amount']),
      'entities.account',
    );
  });

  it('refuses a missing entity file and a JSON answer sent to a file before sending anything', async () => {
    await expectInvalid(
      client.getHistoricalFeatures({ file: join(work, 'missing.csv') }, ['user_clicks:amount']),
      'entities.file',
    );
    await expectInvalid(
      client.getHistoricalFeatures(entityRows, ['user_clicks:amount'], { out: join(work, 'x.json') }),
      'out',
    );
  });

  it('names the URL of a server that is not there', async () => {
    const down = new MeridianClient({ url: `http://127.0.0.1:${await freePort()}` });
    const err = await expectCode(
      down.getHistoricalFeatures(entityRows, ['user_clicks:amount']),
      'UNAVAILABLE',
    );
    expect(err.message).toContain(down.url);
  });
});
