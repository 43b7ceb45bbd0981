import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServedPlatform, startServedPlatform } from '../serving/served-platform.js';

describe('the monitor on an all-in-one platform', { timeout: 90_000 }, () => {
  let served: ServedPlatform;
  let url: string;
  beforeAll(async () => {
    served = await startServedPlatform('monitoring');
    url = served.platform.httpUrl;
  }, 90_000);
  afterAll(() => served?.stop());

  it("profiles a served version's training inputs as its baseline and answers it back", async () => {
    const { model } = served;
    const form = new FormData();
    form.set('file', new Blob([readFileSync(model.inputsCsv)]), 'inputs.csv');
    const put = await fetch(`${url}/v1/models/${model.name}/versions/1/baseline`, {
      method: 'PUT',
      body: form,
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const summary = (await put.json()) as { rows: number; features: string[] };
    expect(summary.rows).toBe(served.rows.length);
    const got = await fetch(`${url}/v1/models/${model.name}/versions/1/baseline`);
    const profile = (await got.json()) as { columns: Record<string, { type: string; min: number | null }> };
    const first = summary.features[0]!;
    const values = served.rows.map((r) => r[0]!).filter((v) => !Number.isNaN(v));
    expect(profile.columns[first]).toMatchObject({ type: 'numerical', min: Math.min(...values) });
  });

  it('answers an ad-hoc drift report and an empty alert list', async () => {
    const reference = { x: Array.from({ length: 200 }, (_, i) => i % 50) };
    const current = { x: Array.from({ length: 200 }, (_, i) => (i % 50) + 40) };
    const drift = await fetch(`${url}/v1/drift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reference, current }),
    });
    expect(drift.status).toBe(200);
    const report = (await drift.json()) as { datasetDrift: boolean; columns: { x: { method: string } } };
    expect(report).toMatchObject({ datasetDrift: true, columns: { x: { method: 'ks' } } });
    const alerts = await fetch(`${url}/v1/alerts?state=firing`);
    expect(await alerts.json()).toEqual({ alerts: [] });
  });
});
