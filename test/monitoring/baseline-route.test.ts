import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerBaselineRoutes } from '../../src/api/routes/baselines.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { BASELINE_MIGRATIONS } from '../../src/monitoring/baseline/migrations.js';
import { MODEL_REGISTRY_MIGRATIONS } from '../../src/serving/migrations.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';

const reference = readFileSync(join(process.cwd(), 'test', 'fixtures', 'drift', 'baseline', 'reference.csv'));

/** A multipart body as a browser or curl would send it. */
async function multipart(fields: Record<string, string>, file?: Uint8Array, fileName = 'reference.csv') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file]), fileName);
  const encoded = new Response(form);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type') as string },
  };
}

async function prepare(dir: string, root: string): Promise<void> {
  const state = await createStateStore(`pglite:${dir}`, { dataDir: root, logger: silentLogger });
  await state.migrate([...MODEL_REGISTRY_MIGRATIONS, ...BASELINE_MIGRATIONS]);
  await state.exec(`INSERT INTO models (name, last_version) VALUES ('churn', 1);
    INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, stage, created_by)
    VALUES ('churn', 1, 'onnx', 'models/churn/1', 'x', 1, '{}', 'staging', 'test');`);
  await state.close();
}

describe('baseline REST routes', () => {
  const template = pgliteTemplate('baseline-route', prepare);
  let state: StateStore;
  let artifact: ArtifactStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    const dir = template.freshDir();
    const ctx = { dataDir: template.root, logger: silentLogger };
    state = await createStateStore(`pglite:${dir}`, ctx);
    artifact = await createArtifactStore(`file:${dir}-artifacts`, ctx);
    app = createHttpServer({
      logger: silentLogger,
      metrics: createMetricsRegistry(false),
      stores: { state, artifact },
      isAccepting: () => true,
    });
    registerBaselineRoutes(app, {
      state,
      artifact,
      logger: silentLogger,
      maxFileBytes: 200_000,
      tmpDir: template.root,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await artifact?.close();
    await state?.close();
  });

  const put = async (version: string, fields: Record<string, string>, file?: Uint8Array, name?: string) =>
    app.inject({
      method: 'PUT',
      url: `/v1/models/churn/versions/${version}/baseline`,
      ...(await multipart(fields, file, name)),
    });
  const get = (version: string) =>
    app.inject({ method: 'GET', url: `/v1/models/churn/versions/${version}/baseline` });

  it('answers 400 naming the field for a bad upload, and stores nothing', async () => {
    const cases: [Record<string, string>, Uint8Array | undefined, string, string?][] = [
      [{ prediction: 'pred' }, reference, 'prediction'],
      [{ label: 'target' }, reference, 'label'],
      [{ categorical: 'amount,colour' }, reference, 'categorical'],
      [{ sampleSize: 'many' }, reference, 'sampleSize'],
      [{}, undefined, 'file'],
      [{}, new TextEncoder().encode('plain text'), 'file', 'notes.txt'],
      [{}, new Uint8Array(0), 'file'],
      [{ colour: 'red' }, reference, 'colour'],
    ];
    for (const [fields, file, field, name] of cases) {
      const res = await put('1', fields, file, name);
      expect(res.statusCode, `${field}: ${res.body}`).toBe(400);
      expect(res.json().details.field).toBe(field);
      expect(res.json().error).toContain(field);
    }
    expect((await get('1')).statusCode).toBe(404);
    expect(await artifact.list('Baselines/')).toEqual([]);
  });

  it('answers a PUT with the stored profile summary and a GET with the whole profile', async () => {
    const res = await put(
      '1',
      { prediction: 'prediction', label: 'label', categorical: 'label', sampleSize: '300' },
      reference,
    );
    expect(res.statusCode, res.body).toBe(200);
    const summary = res.json();
    expect(summary).toMatchObject({
      model: 'churn',
      version: 1,
      rows: 2000,
      features: ['amount', 'score', 'visits', 'city', 'flag', 'empty'],
      prediction: 'prediction',
      label: 'label',
      sample: { path: 'Baselines/churn/v1/sample.parquet', sampleSize: 300, seed: 42 },
    });
    expect(summary.columns.label).toEqual({ type: 'categorical', role: 'label', nullShare: 0 });
    expect(summary.columns.amount.quantiles).toBeUndefined();
    const profile = (await get('1')).json();
    expect(profile.columns.amount.quantiles.values).toHaveLength(11);
    expect(profile.sample).toEqual(summary.sample);
    expect((await artifact.stat(summary.sample.path))?.sha256).toBe(summary.sample.sha256);
  });

  it('answers 404 naming model and version for an unknown version', async () => {
    for (const res of [await put('7', {}, reference), await get('7')]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND', details: { model: 'churn', version: 7 } });
      expect(res.json().error).toContain('version 7');
    }
  });

  it('answers 413 for a reference file over the size limit', async () => {
    const res = await put('1', {}, new Uint8Array(300_000));
    expect(res.statusCode).toBe(413);
    expect(res.json().details.field).toBe('file');
  });
});
