import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeridianClient } from '../../src/sdk/client.js';
import { type MeridianProcess, runMeridian, startMeridian } from '../helpers/meridian-process.js';

/** Reads a Parquet or CSV file with a DuckDB of the test's own: the server's file stays the server's. */
async function readRows(select: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    return (await con.runAndReadAll(select)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

describe('meridian features historical against a running server', { timeout: 180_000 }, () => {
  let dataDir: string;
  let work: string;
  let running: MeridianProcess;
  let pushedAt: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-historical-cli-'));
    work = mkdtempSync(join(tmpdir(), 'meridian-historical-files-'));
    running = await startMeridian(['--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0']);
    const applied = await runMeridian(['apply', 'examples/churn/features.ts', '--url', running.httpUrl]);
    expect(applied.code, applied.stderr).toBe(0);
    pushedAt = new Date().toISOString();
    const client = new MeridianClient({ url: running.httpUrl });
    await client.push('activity', [
      { user_id: 1, action: 'buy', amount: 12.5, country: 'US', ts: '2026-11-20T10:00:00Z' },
      { user_id: 1, action: 'view', amount: 3, country: 'FR', ts: '2026-11-21T10:00:00Z' },
      { user_id: 2, action: 'buy', amount: 99.5, country: 'DE', ts: '2026-11-21T12:00:00Z' },
    ]);
    writeFileSync(
      join(work, 'rows.csv'),
      'user_id,event_timestamp\n2,2026-11-22T00:00:00Z\n1,2026-11-20T12:00:00Z\n1,2026-11-19T12:00:00Z\n1,2026-11-22T00:00:00Z\n',
    );
  }, 180_000);

  afterAll(async () => {
    await running?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const historical = (args: string[]) =>
    runMeridian(['features', 'historical', ...args, '--url', running.httpUrl], {}, 60_000);

  it('writes the point-in-time rows of a CSV of entity rows to Parquet, in file order, and prints the count', async () => {
    const out = join(work, 'training.parquet');
    const run = await historical([
      '--entities',
      join(work, 'rows.csv'),
      '--features',
      'user_activity:amount,user_activity:country',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`4 rows written to ${out} (parquet)`);
    const rows = await readRows(`SELECT * FROM read_parquet('${out}')`);
    expect(rows.map((r) => [r.user_id, r['user_activity:amount'], r['user_activity:country']])).toEqual([
      [2n, 99.5, 'DE'],
      [1n, 12.5, 'US'],
      [1n, null, null],
      [1n, 3, 'FR'],
    ]);
  });

  it('takes a Parquet file and a feature service, and streams CSV to stdout for --out -', async () => {
    const entities = join(work, 'rows.parquet');
    await readRows(
      `COPY (SELECT * FROM (VALUES (1::BIGINT, TIMESTAMPTZ '2026-11-21T11:00:00Z')) t(user_id, event_timestamp)) TO '${entities}' (FORMAT parquet)`,
    );
    const run = await historical(['--entities', entities, '--feature-service', 'churn_model', '--out', '-']);
    expect(run.code, run.stderr).toBe(0);
    const [header, first, ...rest] = run.stdout.trim().split('\n');
    expect(header!.split(',').slice(0, 3)).toEqual(['user_id', 'event_timestamp', 'user_activity:amount']);
    expect(first!.split(',').slice(0, 3)).toEqual(['1', '2026-11-21T11:00:00.000Z', '3.0']);
    expect(rest).toEqual([]);
    expect(run.stderr).toContain('1 rows written to stdout (csv)');
  });

  it('rebuilds the set as known at an earlier system time: nothing had been pushed yet', async () => {
    const out = join(work, 'before.csv');
    const before = new Date(Date.parse(pushedAt) - 60_000).toISOString();
    const run = await historical([
      '--entities',
      join(work, 'rows.csv'),
      '--features',
      'user_activity:amount',
      '--as-of',
      before,
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const rows = await readRows(`SELECT * FROM read_csv('${out}')`);
    expect(rows.map((r) => r['user_activity:amount'])).toEqual([null, null, null, null]);
  });

  it('fails with one line naming a missing column, and with the URL of a server that is not there', async () => {
    const bad = join(work, 'bad.csv');
    writeFileSync(bad, 'id,event_timestamp\n1,2026-11-22T00:00:00Z\n');
    const run = await historical([
      '--entities',
      bad,
      '--features',
      'user_activity:amount',
      '--out',
      join(work, 'x.parquet'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^meridian: entities\.user_id: the file has no column "user_id"/);
    const down = await runMeridian([
      'features',
      'historical',
      '--entities',
      join(work, 'rows.csv'),
      '--features',
      'user_activity:amount',
      '--out',
      join(work, 'y.parquet'),
      '--url',
      'http://127.0.0.1:9',
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach Meridian at http://127.0.0.1:9');
  });
});
