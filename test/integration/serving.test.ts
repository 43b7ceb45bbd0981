import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.js';
import { type FixtureModel, fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import { pythonClientAvailable, runPythonClient } from '../clients/python-client.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

/** Pushes a model file over REST the way `meridian models push` does. */
async function push(url: string, model: FixtureModel): Promise<{ version: number; sha256: string }> {
  const form = new FormData();
  form.set('format', model.format);
  form.set('file', new Blob([readFileSync(model.modelPath)]), basename(model.modelPath));
  const res = await fetch(`${url}/v1/models/${model.name}/versions`, { method: 'POST', body: form });
  const body = (await res.json()) as { version: number; sha256: string; stage: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.stage).toBe('staging');
  return body;
}

async function setStage(url: string, name: string, version: number, stage: string): Promise<void> {
  const res = await fetch(`${url}/v1/models/${name}/versions/${version}/stage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stage }),
  });
  expect(res.status, await res.text()).toBe(200);
}

async function infer(url: string, path: string, rows: number[][]): Promise<Response> {
  return fetch(`${url}${path}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        {
          name: 'input',
          datatype: 'FP64',
          shape: [rows.length, rows[0]!.length],
          data: rows.flat().map((v) => (Number.isNaN(v) ? null : v)),
        },
      ],
    }),
  });
}

async function untilReady(url: string, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${url}/v2/models/${name}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`model ${name} never became ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(pythonClientAvailable())('model serving on a running platform', { timeout: 240_000 }, () => {
  const fixtures = fixtureModels();
  let platform: Platform;
  let running: TestPlatform;

  beforeAll(async () => {
    running = await startTestPlatform('serving-platform');
    platform = running.platform;
    for (const model of fixtures) {
      const { version } = await push(platform.httpUrl, model);
      await setStage(platform.httpUrl, model.name, version, 'production');
    }
    // A promoted version loads and warms up in the background; clients wait for readiness, as probes do.
    for (const model of fixtures) await untilReady(platform.httpUrl, model.name);
  }, 240_000);

  afterAll(async () => {
    await running?.stop();
  });

  it('answers a Python OIP v2 client with every pushed model, over REST and gRPC, as the libraries predict', async () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
    const grpcAddress = platform.grpcUrl.replace('grpc://', '');
    const checks = await runPythonClient(platform.httpUrl, grpcAddress, fixtures);
    expect(checks.length).toBeGreaterThan(fixtures.length * 4);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('answers the production version by default and a staging version at its own path', async () => {
    const model = fixtures.find((f) => f.format === 'lightgbm') ?? fixtures[0]!;
    const rows = readNumericCsv(model.inputsCsv).slice(0, 3);
    const second = await push(platform.httpUrl, model);
    expect(second.version).toBe(2);
    const byDefault = (await (await infer(platform.httpUrl, `/v2/models/${model.name}`, rows)).json()) as {
      model_version: string;
    };
    expect(byDefault.model_version).toBe('1');
    const staged = await infer(platform.httpUrl, `/v2/models/${model.name}/versions/2`, rows);
    expect(staged.status).toBe(200);
    expect(((await staged.json()) as { model_version: string }).model_version).toBe('2');
  });

  it('rejects a corrupt model file at push, naming the file, and stores nothing', async () => {
    const form = new FormData();
    form.set('format', 'xgboost');
    form.set('file', new Blob(['{"learner": 42}']), 'model.json');
    const res = await fetch(`${platform.httpUrl}/v1/models/broken/versions`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/file/);
    expect((await fetch(`${platform.httpUrl}/v1/models/broken`)).status).toBe(404);
  });
});
