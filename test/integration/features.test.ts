import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MeridianProcess, runMeridian, startMeridian } from '../helpers/meridian-process.js';

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the feature store through meridian up', { timeout: 120_000 }, () => {
  let dataDir: string;
  let running: MeridianProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-features-'));
    running = await startMeridian(['--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0']);
  });
  afterAll(async () => {
    await running?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('applies the churn example with the CLI, ingests pushed events and serves them online and point in time', async () => {
    const applied = await runMeridian(['apply', 'examples/churn/features.ts', '--url', running.httpUrl]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/user_activity/);

    const events = [
      { user_id: 1, action: 'buy', amount: 12.5, country: 'US', ts: '2026-11-20T10:00:00Z' },
      { user_id: 1, action: 'view', amount: 3, country: 'US', ts: '2026-11-21T10:00:00Z' },
      { user_id: 2, action: 'buy', amount: 99.5, country: 'DE', ts: '2026-11-21T12:00:00Z' },
    ];
    const push = await post(`${running.httpUrl}/v1/sources/activity/events`, { events });
    expect(push).toEqual({ status: 200, body: { accepted: 3, duplicates: 0 } });
    const retry = await post(`${running.httpUrl}/v1/sources/activity/events`, { events });
    expect(retry.body).toEqual({ accepted: 0, duplicates: 3 });

    const online = await post(`${running.httpUrl}/get-online-features`, {
      features: ['user_activity:amount', 'user_activity:country'],
      entities: { user_id: [1, 2, 3] },
    });
    expect(online.status).toBe(200);
    const results = online.body.results as { values: unknown[]; statuses: string[] }[];
    expect(online.body.metadata).toEqual({
      feature_names: ['user_id', 'user_activity:amount', 'user_activity:country'],
    });
    expect(results[1]).toMatchObject({
      values: [3, 99.5, null],
      statuses: ['PRESENT', 'PRESENT', 'NOT_FOUND'],
    });

    const historical = await post(`${running.httpUrl}/v1/features/historical`, {
      entities: [
        { user_id: 1, event_timestamp: '2026-11-20T12:00:00Z' },
        { user_id: 1, event_timestamp: '2026-11-19T12:00:00Z' },
        { user_id: 2, event_timestamp: '2026-11-22T00:00:00Z' },
      ],
      features: ['user_activity:amount'],
    });
    expect(historical.body.rows).toEqual([
      { user_id: 1, event_timestamp: '2026-11-20T12:00:00.000Z', 'user_activity:amount': 12.5 },
      { user_id: 1, event_timestamp: '2026-11-19T12:00:00.000Z', 'user_activity:amount': null },
      { user_id: 2, event_timestamp: '2026-11-22T00:00:00.000Z', 'user_activity:amount': 99.5 },
    ]);
  });

  it('rejects a bad event naming the row and field, writing nothing', async () => {
    const bad = await post(`${running.httpUrl}/v1/sources/activity/events`, {
      events: [
        { user_id: 7, action: 'buy', amount: 1, country: 'US', ts: '2026-11-20T10:00:00Z' },
        { user_id: 7, action: 'buy', amount: 'lots', country: 'US', ts: '2026-11-20T11:00:00Z' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('events[1].amount');
    const online = await post(`${running.httpUrl}/v1/features/online`, {
      features: ['user_activity:amount'],
      entities: { user_id: [7] },
    });
    expect((online.body.results as { statuses: string[] }[])[1]!.statuses).toEqual(['NOT_FOUND']);
  });

  it('answers 404 naming an unknown source', async () => {
    const res = await post(`${running.httpUrl}/v1/sources/nope/events`, { events: [] });
    expect(res.status).toBe(404);
    expect(res.body.error).toContain('nope');
  });
});
