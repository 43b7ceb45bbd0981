import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeridianClient } from '../../src/sdk/client.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';
import { type MeridianProcess, startMeridian } from '../helpers/meridian-process.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'xgboost', 'hydrated');
const MODEL = join(FIXTURE, 'model.json');
const lines = (file: string) => readFileSync(join(FIXTURE, file), 'utf8').trim().split('\n');
const FEATURES = lines('inputs.csv')[0]!.split(',');
const ROWS = lines('inputs.csv')
  .slice(1)
  .map((line) => line.split(',').map(Number));
const PROBABILITIES = lines('predictions.csv').map(Number);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MeridianClient models against a running server', { timeout: 180_000 }, () => {
  let dataDir: string;
  let work: string;
  let running: MeridianProcess;
  let client: MeridianClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-sdk-models-'));
    work = mkdtempSync(join(tmpdir(), 'meridian-sdk-models-files-'));
    running = await startMeridian(
      ['--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0'],
      {},
      150_000,
    );
    client = new MeridianClient({ url: running.httpUrl });
  }, 180_000);

  afterAll(async () => {
    await running?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('pushes a model file with its metadata as a new version in staging', async () => {
    const pushed = await client.models.push('churn', {
      file: MODEL,
      format: 'xgboost',
      inputs: FEATURES,
      metrics: { auc: 0.91 },
      missing: { default: 'nan' },
      createdBy: 'pipeline:train',
    });
    expect(pushed).toMatchObject({ name: 'churn', version: 1, stage: 'staging' });
    expect(await client.models.version('churn', 1)).toMatchObject({
      ...pushed,
      format: 'xgboost',
      inputs: FEATURES,
      metrics: { auc: 0.91 },
      missingPolicy: { default: 'nan' },
      createdBy: 'pipeline:train',
    });
    const fromBytes = await client.models.push('churn', { file: readFileSync(MODEL), format: 'xgboost' });
    expect(fromBytes.version).toBe(2);
    expect(fromBytes.sha256).toBe(pushed.sha256);
    expect((await client.models.describe('churn')).versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('promotes a version, naming the version it took production from', async () => {
    expect((await client.models.setStage('churn', 1, 'production')).stage).toBe('production');
    const changed = await client.models.setStage('churn', 2, 'production');
    expect(changed).toMatchObject({ version: 2, stage: 'production', demotedVersion: 1 });
    const summary = (await client.models.list()).find((m) => m.name === 'churn');
    expect(summary?.productionVersion).toBe(2);
  });

  it('infers on a version with an FP64 matrix, as the model predicts offline', async () => {
    const answer = await client.models.infer('churn', 1, ROWS.slice(0, 5), { id: 'sdk-1' });
    expect(answer).toMatchObject({ model_name: 'churn', model_version: '1', id: 'sdk-1' });
    const probabilities = answer.outputs.find((o) => o.name === 'probabilities')!;
    expect(probabilities.shape).toEqual([5, 2]);
    const positive = (probabilities.data as number[]).filter((_, i) => i % 2 === 1);
    for (const [i, p] of positive.entries()) expect(p).toBeCloseTo(PROBABILITIES[i]!, 5);
    const flat = await client.models.infer('churn', 1, {
      values: ROWS.slice(0, 2).flat(),
      columns: FEATURES.length,
    });
    expect(flat.outputs.find((o) => o.name === 'probabilities')!.shape).toEqual([2, 2]);
  });

  it('stores a baseline from a CSV file and computes the window drift of the logged predictions', async () => {
    const reference = join(work, 'reference.csv');
    writeFileSync(
      reference,
      [`${FEATURES.join(',')},p`, ...ROWS.map((r, i) => `${r.join(',')},${PROBABILITIES[i]}`)].join('\n'),
    );
    const summary = await client.models.putBaseline('churn', 1, reference, { prediction: 'p' });
    expect(summary).toMatchObject({ model: 'churn', version: 1, rows: ROWS.length, prediction: 'p' });
    // The window starts now: the earlier tests' predictions are logged before it.
    const from = new Date();
    await client.models.infer('churn', 1, ROWS);
    const deadline = Date.now() + 30_000;
    let drift = await client.models.drift('churn', 1, {
      from,
      to: new Date(Date.now() + 60_000),
      minRows: 1,
    });
    while (drift.rows < ROWS.length && Date.now() < deadline) {
      await sleep(200);
      drift = await client.models.drift('churn', 1, { from, to: new Date(Date.now() + 60_000), minRows: 1 });
    }
    expect(drift).toMatchObject({ model: 'churn', version: 1, rows: ROWS.length, status: 'compared' });
    expect(drift.datasetDrift).toBe(false);
    expect(Object.keys(drift.columns).sort()).toEqual([...FEATURES].sort());
  });

  it('answers bad input with the error naming the field', async () => {
    await expectInvalid(client.models.infer('churn', 1, [[1, 2], [3]]), 'matrix[1]');
    await expectCode(client.models.infer('churn', 1, [[1, 2, 3]]), 'INVALID_ARGUMENT');
    const notAModel = join(work, 'model.json');
    writeFileSync(notAModel, '{"learner": "nope"}');
    await expectInvalid(client.models.push('churn', { file: notAModel, format: 'xgboost' }), 'file');
    await expectInvalid(
      client.models.push('churn', { file: join(work, 'missing.json'), format: 'xgboost' }),
      'file',
    );
    await expectInvalid(client.models.drift('churn', 1, { from: 'yesterday' }), 'from');
    await expectCode(client.models.describe('nope'), 'NOT_FOUND', 'name');
  });

  it('materializes the newest offline values of the views into the online store', async () => {
    await client.apply({
      entities: [{ name: 'user', joinKeys: ['user_id'] }],
      sources: [
        {
          name: 'clicks',
          kind: 'stream',
          timestampField: 'ts',
          schema: { user_id: 'int64', amount: 'float64', ts: 'timestamp' },
        },
      ],
      featureViews: [
        { name: 'user_clicks', entities: ['user'], source: 'clicks', features: { amount: 'float64' } },
      ],
    });
    expect(await client.materialize()).toEqual({ views: { user_clicks: { rows: 0, stale: 0 } }, rows: 0 });
    await client.push('clicks', [
      { user_id: 1, amount: 5, ts: '2026-11-20T10:00:00Z' },
      { user_id: 1, amount: 7, ts: '2026-11-21T10:00:00Z' },
      { user_id: 2, amount: 9, ts: '2026-11-21T10:00:00Z' },
    ]);
    const result = await client.materialize({ views: ['user_clicks'], to: new Date('2026-11-21T00:00:00Z') });
    expect(result).toEqual({ views: { user_clicks: { rows: 0, stale: 1 } }, rows: 0 });
    await expectCode(client.materialize({ views: ['nope'] }), 'NOT_FOUND', 'views[0]');
  });
});
