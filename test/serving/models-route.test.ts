import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerModelRoutes } from '../../src/api/routes/models.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { lightgbmModel, openRegistry, prepareTemplate, type RegistryFixture } from './registry-fixtures.js';

const model = lightgbmModel('multiclass');

/** A multipart body as a browser or curl would send it. */
async function multipart(fields: Record<string, string>, file?: Uint8Array) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file]), 'model.txt');
  const encoded = new Response(form);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type') as string },
  };
}

describe('model registry REST routes', () => {
  const template = pgliteTemplate('models-route', prepareTemplate);
  let f: RegistryFixture;
  let app: FastifyInstance;

  beforeEach(async () => {
    f = await openRegistry(template);
    app = createHttpServer({
      logger: silentLogger,
      metrics: createMetricsRegistry(false),
      stores: { state: f.state, artifact: f.artifacts },
      isAccepting: () => true,
    });
    registerModelRoutes(app, { registry: f.registry, maxModelBytes: 400_000 });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await f.close();
  });

  const push = async (name: string, fields: Record<string, string>, file?: Uint8Array) =>
    app.inject({ method: 'POST', url: `/v1/models/${name}/versions`, ...(await multipart(fields, file)) });
  const stage = (name: string, version: number | string, body: unknown) =>
    app.inject({
      method: 'POST',
      url: `/v1/models/${name}/versions/${version}/stage`,
      payload: body as object,
    });

  it('answers a push with exactly name, version, stage and sha256 (201)', async () => {
    const res = await push('churn', { format: 'lightgbm' }, model);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({
      name: 'churn',
      version: 1,
      stage: 'staging',
      sha256: createHash('sha256').update(model).digest('hex'),
    });
    expect((await push('churn', { format: 'lightgbm' }, model)).json().version).toBe(2);
  });

  it('records inputs, feature service and metrics sent as form fields', async () => {
    const inputs = Array.from({ length: 10 }, (_, i) => `x${i}`).join(', ');
    const fields = { format: 'lightgbm', inputs, featureService: 'risk', metrics: '{"logloss": 0.3}' };
    expect((await push('risk', fields, model)).statusCode).toBe(201);
    const described = (await app.inject({ method: 'GET', url: '/v1/models/risk' })).json();
    expect(described.versions[0]).toMatchObject({
      version: 1,
      inputs: Array.from({ length: 10 }, (_, i) => `x${i}`),
      featureService: 'risk',
      metrics: { logloss: 0.3 },
      signature: { featureCount: 10, classCount: 3 },
    });
  });

  it('answers 400 naming the field for a bad push, and stores nothing', async () => {
    const cases: [Record<string, string>, Uint8Array | undefined, string][] = [
      [{}, model, 'format'],
      [{ format: 'pickle' }, model, 'format'],
      [{ format: 'lightgbm' }, undefined, 'file'],
      [{ format: 'lightgbm' }, new TextEncoder().encode('not a model'), 'file'],
      [{ format: 'xgboost' }, model, 'file'],
      [{ format: 'lightgbm', metrics: '{auc' }, model, 'metrics'],
      [{ format: 'lightgbm', inputs: 'a,b' }, model, 'inputs'],
      [{ format: 'lightgbm', colour: 'red' }, model, 'colour'],
    ];
    for (const [fields, file, field] of cases) {
      const res = await push('churn', fields, file);
      expect(res.statusCode, `${field}: ${res.body}`).toBe(400);
      expect(res.json().details.field).toBe(field);
      expect(res.json().error).toContain(field);
    }
    expect((await push('bad name!', { format: 'lightgbm' }, model)).json().details.field).toBe('name');
    expect((await app.inject({ method: 'GET', url: '/v1/models' })).json()).toEqual({ models: [] });
  });

  it('answers 413 for a model file over the size limit', async () => {
    const res = await push('big', { format: 'lightgbm' }, new Uint8Array(500_000));
    expect(res.statusCode).toBe(413);
    expect(res.json().details.field).toBe('file');
  });

  it('promotes, demotes and archives through the stage route', async () => {
    await push('churn', { format: 'lightgbm' }, model);
    await push('churn', { format: 'lightgbm' }, model);
    expect((await stage('churn', 1, { stage: 'production' })).json()).toMatchObject({ stage: 'production' });
    const second = await stage('churn', 2, { stage: 'production' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      name: 'churn',
      version: 2,
      stage: 'production',
      demotedVersion: 1,
    });
    const list = (await app.inject({ method: 'GET', url: '/v1/models' })).json();
    expect(list).toMatchObject({ models: [{ name: 'churn', latestVersion: 2, productionVersion: 2 }] });
    expect((await stage('churn', 2, { stage: 'archived' })).json().stage).toBe('archived');
    const versions = (await app.inject({ method: 'GET', url: '/v1/models/churn' })).json().versions;
    expect(versions.map((v: { stage: string }) => v.stage)).toEqual(['staging', 'archived']);
  });

  it('answers 400 for a bad stage or version and 404 naming an unknown model or version', async () => {
    await push('churn', { format: 'lightgbm' }, model);
    const badStage = await stage('churn', 1, { stage: 'live' });
    expect([badStage.statusCode, badStage.json().details.field]).toEqual([400, 'stage']);
    const noStage = await stage('churn', 1, {});
    expect([noStage.statusCode, noStage.json().details.field]).toEqual([400, 'stage']);
    const badVersion = await stage('churn', 'latest', { stage: 'production' });
    expect([badVersion.statusCode, badVersion.json().details.field]).toEqual([400, 'version']);
    const noVersion = await stage('churn', 9, { stage: 'production' });
    expect(noVersion.statusCode).toBe(404);
    expect(noVersion.json().error).toContain('no version 9');
    const noModel = await app.inject({ method: 'GET', url: '/v1/models/nope' });
    expect(noModel.statusCode).toBe(404);
    expect(noModel.json().error).toContain('"nope"');
  });
});
