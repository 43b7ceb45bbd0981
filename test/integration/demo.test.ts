import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/demo/run.js';
import { formatSummary } from '../../src/demo/summary.js';
import { runMeridian, spawnCli } from '../helpers/meridian-process.js';

const USERS = 200;
const TRAINING_ROWS = 300;
const MODEL_ROWS = 3000;
const PREDICT_REQUESTS = 1000;

describe('meridian demo', { timeout: 180_000 }, () => {
  let dataDir: string;
  let summary: DemoSummary;
  let stderr: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-demo-test-'));
    const args = ['demo', '--duration', '5s', '--users', String(USERS), '--rate', '500', '--json'];
    const extra = [
      '--training-rows',
      String(TRAINING_ROWS),
      '--model-rows',
      String(MODEL_ROWS),
      '--predict-requests',
      String(PREDICT_REQUESTS),
      '--data-dir',
      dataDir,
    ];
    const run = await runMeridian([...args, ...extra], {}, 150_000);
    expect(run.code, run.stderr).toBe(0);
    summary = JSON.parse(run.stdout) as DemoSummary;
    stderr = run.stderr;
  }, 160_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('accounts for every event sent: stored, dropped as a duplicate retry, or rejected', () => {
    const { events } = summary;
    expect(events.sent).toBeGreaterThan(0);
    expect(events.failed).toBe(0);
    expect(events.duplicates).toBeGreaterThan(0);
    expect(events.accepted + events.duplicates).toBe(events.sent - events.rejected);
    expect(summary.offlineRows).toBe(events.accepted);
  });

  it('ingests through both paths: pushed batches and uploaded files', () => {
    const { push, file } = summary.paths;
    expect(push!.accepted).toBeGreaterThan(0);
    expect(file!.requests).toBeGreaterThan(0);
    expect(file!.accepted).toBeGreaterThan(0);
    expect(file!.rejected).toBeGreaterThan(0);
    for (const path of [push!, file!]) {
      expect(path.accepted + path.duplicates).toBe(path.sent - path.rejected - path.failed);
    }
  });

  it('reports the deliberately bad events with reasons naming the offending field', () => {
    expect(summary.events.rejected).toBeGreaterThan(0);
    expect(summary.rejections.reduce((n, r) => n + r.count, 0)).toBe(summary.events.rejected);
    for (const rejection of summary.rejections) {
      // Push refusals name the JSON path; file refusals name the column.
      expect(rejection.field).toMatch(/^(events\[\d+\]\.)?(amount|ts|user_id)$/);
      expect(rejection.example).toContain(rejection.field);
    }
  });

  it('serves the pushed users online, never more than exist', () => {
    expect(summary.onlineEntities).toBeGreaterThan(0);
    expect(summary.onlineEntities).toBeLessThanOrEqual(USERS);
  });

  it('builds a point-in-time training set with one row per entity row and some feature values', () => {
    const set = summary.trainingSet;
    expect(set.featureService).toBe('churn_model');
    expect(set.requested).toBe(TRAINING_ROWS);
    expect(set.rows).toBe(TRAINING_ROWS);
    expect(set.rowsWithFeatures).toBeGreaterThan(0);
    expect(set.rowsWithFeatures).toBeLessThanOrEqual(TRAINING_ROWS);
    expect(set.sample).toHaveLength(5);
    expect(Object.keys(set.sample[0]!)).toEqual(
      expect.arrayContaining([
        'user_id',
        'event_timestamp',
        'user_activity:amount',
        'user_spend:clipped_amount',
      ]),
    );
  });

  it('trains an XGBoost churn model that beats chance on a later, held-out slice of the training set', () => {
    const { metrics, trainingSetFile, modelFile } = summary.model;
    expect(metrics.rows).toBe(MODEL_ROWS);
    expect(metrics.trainRows + metrics.holdoutRows).toBe(MODEL_ROWS);
    expect(metrics.holdoutRows).toBeGreaterThan(0);
    expect(metrics.rowsWithFeatures).toBeGreaterThan(MODEL_ROWS / 2);
    expect(metrics.holdoutAuc).toBeGreaterThan(0.6);
    expect(metrics.holdoutLogloss).toBeLessThan(metrics.baselineLogloss);
    // The training set is the historical API's CSV: a header and one line per entity row.
    const lines = readFileSync(trainingSetFile, 'utf8').trim().split('\n');
    expect(lines[0]).toContain('user_spend:clipped_amount');
    expect(lines).toHaveLength(MODEL_ROWS + 1);
    expect(JSON.parse(readFileSync(modelFile, 'utf8')).learner.objective.name).toBe('binary:logistic');
  });

  it('pushes the model with its numeric inputs and NaN for missing values, and promotes it to production', () => {
    const { model } = summary;
    expect(model.version).toBeGreaterThanOrEqual(1);
    expect(model.stage).toBe('production');
    expect(model.productionVersion).toBe(model.version);
    expect(model.featureService).toBe('churn_model');
    expect(model.inputs).toEqual(model.metrics.inputs);
    expect(model.inputs).not.toContain('user_activity:country');
    expect(model.missingPolicy).toEqual({ default: 'nan' });
  });

  it('answers every hydrated prediction of the load from the production version', () => {
    const p = summary.predictions;
    expect(p.requests).toBeGreaterThan(0);
    expect(p.requests).toBeLessThanOrEqual(PREDICT_REQUESTS);
    expect(p.errors, p.errorExamples.join('; ')).toBe(0);
    expect(p.servedVersions).toEqual([summary.model.version]);
    expect(p.throughput).toBeGreaterThan(0);
    expect(p.meanChurnProbability).toBeGreaterThan(0);
    expect(p.meanChurnProbability).toBeLessThan(1);
  });

  it('reports ordered, positive latency percentiles of the prediction load', () => {
    const l = summary.predictions.latencyMs;
    expect(l.p50).toBeGreaterThan(0);
    expect(l.p50).toBeLessThanOrEqual(l.p95);
    expect(l.p95).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.max);
  });

  it('baselines the deployed version on its training set, inputs and predicted churn probability', () => {
    const { baseline } = summary.drift;
    expect(baseline.rows).toBe(MODEL_ROWS);
    expect(baseline.features).toEqual(summary.model.inputs);
    expect(baseline.prediction).toBe('churn_probability');
  });

  it('predicts every user once after the shift and compares that window with the baseline', () => {
    const d = summary.drift;
    expect(d.shiftedEvents).toBe(USERS);
    expect(d.predicted).toBe(USERS);
    expect(d.predictErrors).toBe(0);
    expect(d.status).toBe('compared');
    expect(d.rows).toBe(USERS);
  });

  it('finds drift on exactly the inputs the shift moves and on none of the others', () => {
    const { features, shift } = summary.drift;
    expect(Object.keys(features).sort()).toEqual([...summary.model.inputs].sort());
    expect([...shift.drifting, ...shift.stable].sort()).toEqual([...summary.model.inputs].sort());
    for (const [feature, drift] of Object.entries(features)) {
      const expected = (shift.drifting as readonly string[]).includes(feature);
      expect(drift.drifted, `${feature}: ${drift.method} ${drift.score}`).toBe(expected);
      expect(drift.threshold).toBeGreaterThan(0);
    }
    expect(summary.drift.driftShare).toBeCloseTo(shift.drifting.length / summary.model.inputs.length, 9);
  });

  it('reports the drift of the prediction output', () => {
    const { prediction } = summary.drift;
    expect(prediction?.column).toBe('churn_probability');
    expect(prediction?.drifted).toBe(true);
    expect(prediction?.score).toBeGreaterThanOrEqual(prediction?.threshold ?? Number.POSITIVE_INFINITY);
  });

  it('fires a feature drift alert for each drifted input of the version, and for no other', () => {
    const { alerts, features } = summary.drift;
    const drifted = Object.keys(features).filter((f) => features[f]!.drifted);
    const featureAlerts = alerts.filter((a) => a.rule === 'MeridianFeatureDrift');
    expect(featureAlerts.map((a) => a.feature).sort()).toEqual(drifted.sort());
    for (const alert of featureAlerts) expect(alert.labels.version).toBe(String(summary.model.version));
  });

  it('prints the drift scores and firing alerts in the text summary', () => {
    const text = formatSummary(summary);
    expect(text).toMatch(/user_activity:amount\s+wasserstein \d+\.\d+ \(drift at >= 0\.1\): DRIFT/);
    expect(text).toMatch(/churn_probability \(prediction\)\s+\w+ \d+\.\d+/);
    expect(text).toContain('MeridianFeatureDrift (warning) on user_activity:amount');
  });

  it('retrains the model from the drift alert and decides against production on the same holdout', () => {
    const r = summary.retrain!;
    expect(r.status, r.error ?? '').toBe('COMPLETED');
    expect(r.reason).toMatch(/^alert Meridian(Feature|Dataset)Drift/);
    expect(r.steps.map((s) => [s.name, s.status])).toEqual(
      ['training-set', 'fit', 'register', 'evaluate', 'baseline', 'decide'].map((name) => [
        name,
        'COMPLETED',
      ]),
    );
    const d = r.decision!;
    expect(d).toMatchObject({
      metric: 'auc',
      candidateVersion: summary.model.version + 1,
      productionVersion: summary.model.version,
    });
    expect(d.candidate).toBeGreaterThan(0.5);
    expect(d.production).toEqual(expect.any(Number));
    const gain = d.candidate! - d.production!;
    expect(d.decision).toBe(gain > 0 ? 'promoted' : 'kept');
    expect(formatSummary(summary)).toContain(`decision: ${d.decision}`);
  });

  it('reports progress on stderr while it runs', () => {
    expect(stderr).toMatch(/demo \d+s: \d+ events\/s, \d+ rows durable, \d+ online entities/);
  });
});

describe('meridian demo without xgboost', { timeout: 120_000 }, () => {
  it('fails before sending traffic, naming the package to install', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'meridian-demo-nopy-'));
    try {
      const run = await runMeridian(
        ['demo', '--duration', '5s', '--users', '20', '--rate', '50', '--data-dir', dataDir],
        { MERIDIAN_PYTHON: join(dataDir, 'no-python3') },
        100_000,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('apt-get install -y python3-xgboost');
      expect(run.stderr).not.toContain('starting the platform');
      expect(existsSync(join(dataDir, 'churn-model'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('meridian demo interrupted', { timeout: 120_000 }, () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-demo-sigint-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops early on SIGINT, still prints its summary and exits 0', async () => {
    const child = spawnCli([
      'demo',
      '--duration',
      '10m',
      '--users',
      '50',
      '--rate',
      '200',
      '--model-rows',
      '500',
      '--predict-requests',
      '100',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout?.on('data', (c: Buffer) => (stdout += c));
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c;
      // Once only: a second SIGINT means "exit at once".
      if (!interrupted && /events\/s/.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as DemoSummary;
    expect(summary.stoppedEarly).toBe(true);
    expect(summary.durationMs).toBeLessThan(60_000);
    expect(summary.events.sent).toBeGreaterThan(0);
  });
});
