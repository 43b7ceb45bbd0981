/**
 * The built-in train pipeline end to end in a running platform: point-in-time features for a label
 * file, a time split, the built-in trainer, registration with metrics and training spec, the score
 * of candidate and production on the same holdout through the model server, the baseline, and the
 * promotion decision; then a retrain by model name alone, from the production version's spec.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/demo/random.js';
import type { RunView } from '../../src/pipelines/types.js';
import type { Platform } from '../../src/platform.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { jsonCall, runToEnd } from '../helpers/pipeline-runs.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

const FEATURES = { amount: 'float64', visits: 'float64' } as const;
const USERS = 400;
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('the built-in train pipeline', { timeout: 240_000 }, () => {
  let running: TestPlatform;
  let platform: Platform;
  let dir: string;
  let url: string;
  let labels: string;

  const call = jsonCall(() => url);
  const runTrain = (params: Record<string, unknown>) => runToEnd(call, 'train', params);
  const output = (run: RunView, step: string) =>
    run.steps.find((s) => s.name === step)?.output as Record<string, unknown>;

  beforeAll(async () => {
    running = await startTestPlatform('train-pipeline', {
      pipelines: { sweepIntervalMs: 500, heartbeatMs: 500 },
    });
    platform = running.platform;
    dir = running.dir;
    url = platform.httpUrl;
    await call('POST', '/v1/apply', {
      entities: [USER],
      sources: [activitySource({ features: FEATURES })],
      featureViews: [userActivityView({ features: FEATURES })],
      featureServices: [{ name: 'churn_svc', features: ['user_activity:amount', 'user_activity:visits'] }],
    });
    const random = seededRandom(7);
    const events = [];
    const rows = ['user_id,event_timestamp,label'];
    for (let u = 1; u <= USERS; u++) {
      const amount = Math.round(random() * 100);
      const visits = Math.round(random() * 20);
      const ts = new Date(T0 + u * 60_000).toISOString();
      events.push({ user_id: u, amount, visits, ts });
      const churns = amount / 100 + visits / 20 + (random() - 0.5) * 0.6 < 1 ? 1 : 0;
      rows.push(`${u},${new Date(T0 + u * 60_000 + 1000).toISOString()},${churns}`);
    }
    await call('POST', '/v1/sources/activity/events', { events });
    labels = join(dir, 'labels.csv');
    writeFileSync(labels, `${rows.join('\n')}\n`);
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('trains, registers, baselines and promotes the first version of a model', async () => {
    const run = await runTrain({ model: 'churn', featureService: 'churn_svc', labels, labelColumn: 'label' });
    expect(run.error).toBeNull();
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([
      ['training-set', 'COMPLETED'],
      ['fit', 'COMPLETED'],
      ['register', 'COMPLETED'],
      ['evaluate', 'COMPLETED'],
      ['baseline', 'COMPLETED'],
      ['decide', 'COMPLETED'],
    ]);
    expect(output(run, 'training-set')).toMatchObject({ rows: USERS });
    const fit = output(run, 'fit');
    expect(fit.inputs).toEqual(['user_activity:amount', 'user_activity:visits']);
    expect((fit.metrics as { auc: number }).auc).toBeGreaterThan(0.8);
    const decision = output(run, 'decide');
    expect(decision).toMatchObject({ decision: 'promoted', candidateVersion: 1, productionVersion: null });
    // The holdout score through the server is the trainer's own.
    expect(output(run, 'evaluate').candidate).toBeCloseTo((fit.metrics as { auc: number }).auc, 6);

    const version = await call('GET', '/v1/models/churn/versions/1');
    expect(version).toMatchObject({ stage: 'production', featureService: 'churn_svc' });
    expect((version.metrics as Record<string, unknown>).training).toMatchObject({
      labels,
      labelColumn: 'label',
      algorithm: 'gbt',
    });
    const baseline = await call('GET', '/v1/models/churn/versions/1/baseline');
    expect(baseline).toMatchObject({
      features: ['user_activity:amount', 'user_activity:visits'],
      prediction: 'prediction',
    });
  });

  it('retrains from the production spec given only the model, and keeps production unless the candidate beats it by the margin', async () => {
    const run = await runTrain({ model: 'churn', algorithm: 'logistic', margin: 0.5 });
    expect(run.error).toBeNull();
    const scores = output(run, 'evaluate');
    expect(scores).toMatchObject({ metric: 'auc', candidateVersion: 2, productionVersion: 1 });
    expect(scores.production).toEqual(expect.any(Number));
    const decision = output(run, 'decide');
    expect(decision.decision).toBe('kept');
    expect(decision.reason).toMatch(/margin 0\.5/);
    const model = await call('GET', '/v1/models/churn');
    expect(model.productionVersion).toBe(1);
  });
});
