import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerAlertRoutes } from '../../src/api/routes/alerts.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Alert } from '../../src/monitoring/alerts/alert.js';
import { AlertStore } from '../../src/monitoring/alerts/alert-store.js';
import { DEFAULT_ALERT_RULES } from '../../src/monitoring/alerts/default-rules.js';
import { AlertEvaluator, type MetricSample } from '../../src/monitoring/alerts/evaluator.js';
import { RetrainHook, type RetrainRequest } from '../../src/monitoring/alerts/retrain-hook.js';
import type { AlertRule } from '../../src/monitoring/alerts/rule.js';
import {
  DATASET_DRIFT_SHARE,
  FEATURE_DRIFTED,
  FEATURE_FRESHNESS_SLO_RATIO,
  PERFORMANCE_DROP,
  SERVING_ERROR_RATIO,
} from '../../src/monitoring/metric-names.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';
import { tempStoreDir } from '../helpers/servers.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const driftRule: AlertRule = {
  name: 'Drift',
  metric: DATASET_DRIFT_SHARE,
  condition: '>=',
  threshold: 0.5,
  forMs: 5 * MINUTE,
  severity: 'warning',
};

const share = (value: number, time: number, model = 'churn'): MetricSample => ({
  metric: DATASET_DRIFT_SHARE,
  labels: { model, version: '1' },
  value,
  time,
});

describe('alert evaluator and store on PGlite', () => {
  let dir: string;
  let state: StateStore;
  let store: AlertStore;
  let clock: ManualClock;

  // One database for the file (opening PGlite costs seconds); every test starts from an empty table.
  beforeAll(async () => {
    dir = tempStoreDir('alerts');
    state = await createStateStore(`pglite:${join(dir, 'state')}`, { dataDir: dir, logger: silentLogger });
    store = await AlertStore.open(state);
  });
  afterAll(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await state.exec('DELETE FROM monitoring_alerts');
    clock = new ManualClock(T0);
  });

  const open = (rules: AlertRule[] = [driftRule], extra = {}) =>
    AlertEvaluator.open({ store, logger: silentLogger, clock, rules, staleAfterMs: 60 * MINUTE, ...extra });

  it('stays pending until the for-duration has passed on the clock, then fires without a new sample', async () => {
    const evaluator = await open();
    const [first] = await evaluator.evaluate([share(0.6, T0)]);
    expect(first).toMatchObject({ from: 'inactive', to: 'pending' });
    clock.advance(4 * MINUTE);
    expect(await evaluator.evaluate([share(0.7, clock.now())])).toEqual([]);
    expect((await store.get(first!.alert.id)).state).toBe('pending');
    clock.advance(MINUTE);
    const [fired] = await evaluator.evaluate([]);
    expect(fired).toMatchObject({ from: 'pending', to: 'firing' });
    const stored = await store.get(first!.alert.id);
    expect(stored).toMatchObject({
      state: 'firing',
      activeAt: T0,
      firedAt: T0 + 5 * MINUTE,
      resolvedAt: null,
    });
    expect(stored.labels).toEqual({ model: 'churn', version: '1', alertname: 'Drift', severity: 'warning' });
  });

  it('fires at once when the rule has no for-duration', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0 }]);
    const [t] = await evaluator.evaluate([share(0.5, T0)]);
    expect(t).toMatchObject({ from: 'inactive', to: 'firing' });
    expect(await store.get(t!.alert.id)).toMatchObject({ state: 'firing', firedAt: T0, value: 0.5 });
  });

  it('discards a pending alert whose condition stops holding before the for-duration', async () => {
    const evaluator = await open();
    const [pending] = await evaluator.evaluate([share(0.6, T0)]);
    clock.advance(MINUTE);
    const [gone] = await evaluator.evaluate([share(0.1, clock.now())]);
    expect(gone).toMatchObject({ from: 'pending', to: 'discarded' });
    await expectCode(store.get(pending!.alert.id), 'NOT_FOUND', 'id');
    clock.advance(10 * MINUTE);
    expect(await evaluator.evaluate([])).toEqual([]);
    expect(await store.list('all')).toEqual([]);
  });

  it('keeps one firing alert per fingerprint however often the condition is evaluated', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0 }]);
    const transitions = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(MINUTE);
      transitions.push(...(await evaluator.evaluate([share(0.8, clock.now()), share(0.9, clock.now())])));
    }
    expect(transitions.map((t) => t.to)).toEqual(['firing']);
    expect(await store.list('firing')).toHaveLength(1);
  });

  it('treats each label set as its own alert', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0 }]);
    const transitions = await evaluator.evaluate([share(0.8, T0, 'churn'), share(0.8, T0, 'fraud')]);
    expect(transitions).toHaveLength(2);
    expect(new Set(transitions.map((t) => t.alert.fingerprint)).size).toBe(2);
  });

  it('resolves a firing alert when the condition stops holding, and firing again is a new instance', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0 }]);
    const [first] = await evaluator.evaluate([share(0.8, T0)]);
    clock.advance(MINUTE);
    const [resolved] = await evaluator.evaluate([share(0.2, clock.now())]);
    expect(resolved).toMatchObject({ from: 'firing', to: 'resolved' });
    expect(await store.get(first!.alert.id)).toMatchObject({
      state: 'resolved',
      firedAt: T0,
      resolvedAt: T0 + MINUTE,
      value: 0.2,
    });
    clock.advance(MINUTE);
    const [again] = await evaluator.evaluate([share(0.9, clock.now())]);
    expect(again).toMatchObject({ from: 'inactive', to: 'firing' });
    expect(again!.alert.id).not.toBe(first!.alert.id);
    expect(again!.alert.fingerprint).toBe(first!.alert.fingerprint);
    expect((await store.list('all')).map((a) => a.state)).toEqual(['firing', 'resolved']);
    expect((await store.list('resolved')).map((a) => a.id)).toEqual([first!.alert.id]);
  });

  it('resolves a firing alert whose series is no longer observed for staleAfterMs', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0 }]);
    const [first] = await evaluator.evaluate([share(0.8, T0)]);
    clock.advance(59 * MINUTE);
    expect(await evaluator.evaluate([])).toEqual([]);
    clock.advance(2 * MINUTE);
    const [stale] = await evaluator.evaluate([]);
    expect(stale).toMatchObject({ from: 'firing', to: 'resolved' });
    expect((await store.get(first!.alert.id)).resolvedAt).toBe(T0 + 61 * MINUTE);
  });

  it('ignores a sample older than the newest one already applied', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0 }]);
    await evaluator.evaluate([share(0.8, T0 + MINUTE)]);
    expect(await evaluator.evaluate([share(0.1, T0)])).toEqual([]);
    expect(await store.list('firing')).toHaveLength(1);
  });

  it('resumes stored alerts after a restart without firing them twice', async () => {
    const before = await open();
    await before.evaluate([share(0.8, T0)]);
    clock.advance(5 * MINUTE);
    const after = await open();
    const [fired] = await after.evaluate([share(0.8, clock.now())]);
    expect(fired).toMatchObject({ from: 'pending', to: 'firing' });
    const restarted = await open();
    expect(await restarted.evaluate([share(0.8, clock.now())])).toEqual([]);
    expect(await store.list('all')).toHaveLength(1);
  });

  it('resolves stored alerts of a rule that is no longer configured', async () => {
    await (await open([{ ...driftRule, forMs: 0 }])).evaluate([share(0.8, T0)]);
    const [t] = await (await open([{ ...driftRule, name: 'Other' }])).evaluate([]);
    expect(t).toMatchObject({ from: 'firing', to: 'resolved' });
  });

  it('limits a rule to samples carrying its match labels', async () => {
    const evaluator = await open([{ ...driftRule, forMs: 0, match: { model: 'fraud' } }]);
    const transitions = await evaluator.evaluate([share(0.9, T0, 'churn'), share(0.9, T0, 'fraud')]);
    expect(transitions.map((t) => t.alert.labels.model)).toEqual(['fraud']);
  });

  it('rejects malformed samples and rules with INVALID_ARGUMENT naming the field', async () => {
    const evaluator = await open();
    await expectInvalid(evaluator.evaluate([{ ...share(1, T0), time: Number.NaN }]), 'samples[0].time');
    const badLabels = { ...share(1, T0), labels: { model: 3 } } as unknown as MetricSample;
    await expectInvalid(evaluator.evaluate([badLabels]), 'samples[0].labels.model');
    await expectInvalid(open([{ ...driftRule, condition: '==' as '>' }]), 'rules[0].condition');
    await expectInvalid(open([driftRule, driftRule]), 'rules[1].name');
  });

  it('fires every default rule on a breaching sample and none on a healthy one', async () => {
    const evaluator = await open([...DEFAULT_ALERT_RULES]);
    const sample = (metric: string, value: number, labels: Record<string, string>) => ({
      metric,
      labels,
      value,
      time: clock.now(),
    });
    const m = { model: 'churn', version: '3' };
    const all = (bad: boolean) => [
      sample(DATASET_DRIFT_SHARE, bad ? 0.5 : 0.49, m),
      sample(FEATURE_DRIFTED, bad ? 1 : 0, { ...m, feature: 'age', method: 'ks' }),
      sample(PERFORMANCE_DROP, bad ? 0.12 : 0.02, { ...m, metric: 'auc' }),
      sample(FEATURE_FRESHNESS_SLO_RATIO, bad ? 1.5 : 0.9, { feature_view: 'customers' }),
      sample(SERVING_ERROR_RATIO, bad ? 0.06 : 0.05, m),
    ];
    expect(await evaluator.evaluate(all(false))).toEqual([]);
    const now = await evaluator.evaluate(all(true));
    expect(now.filter((t) => t.to === 'firing').map((t) => t.alert.rule)).toEqual([
      'MeridianDatasetDrift',
      'MeridianFeatureDrift',
      'MeridianPerformanceDrop',
    ]);
    clock.advance(5 * MINUTE);
    const later = await evaluator.evaluate(all(true));
    expect(later.map((t) => t.alert.rule)).toEqual([
      'MeridianFeatureFreshnessSLO',
      'MeridianServingErrorRate',
    ]);
    expect(later.every((t) => t.to === 'firing')).toBe(true);
  });

  describe('retraining hook', () => {
    const usage: Record<string, string[]> = { age: ['churn', 'upsell'], income: ['fraud'] };
    const featureSample = (feature: string, drifted: number): MetricSample => ({
      metric: FEATURE_DRIFTED,
      labels: { model: 'churn', version: '1', feature, method: 'ks' },
      value: drifted,
      time: clock.now(),
    });

    it('triggers retraining of every model that uses the drifted feature, with the alert attached', async () => {
      const calls: RetrainRequest[] = [];
      const retrain = new RetrainHook({
        triggerRetrain: async (request) => void calls.push(request),
        modelsUsingFeature: async (feature) => usage[feature] ?? [],
        logger: silentLogger,
      });
      const evaluator = await open([...DEFAULT_ALERT_RULES], { retrain });
      const [t] = await evaluator.evaluate([featureSample('age', 1), featureSample('income', 0)]);
      await retrain.idle();
      expect(calls).toHaveLength(1);
      expect(calls[0]!.models).toEqual(['churn', 'upsell']);
      expect(calls[0]!.alert).toEqual(t!.alert);
      expect(calls[0]!.alert.labels.feature).toBe('age');
      await evaluator.evaluate([featureSample('age', 1)]);
      await retrain.idle();
      expect(calls).toHaveLength(1);
    });

    it('does not trigger retraining for rules that do not ask for it', async () => {
      const calls: RetrainRequest[] = [];
      const retrain = new RetrainHook({
        triggerRetrain: async (request) => void calls.push(request),
        modelsUsingFeature: () => ['churn'],
        logger: silentLogger,
      });
      const evaluator = await open([{ ...driftRule, forMs: 0, retrain: false }], { retrain });
      expect(await evaluator.evaluate([share(0.9, T0)])).toHaveLength(1);
      await retrain.idle();
      expect(calls).toEqual([]);
    });

    it('keeps evaluating when the retrain trigger fails', async () => {
      let attempts = 0;
      const retrain = new RetrainHook({
        triggerRetrain: async () => {
          attempts += 1;
          throw new Error('pipeline service down');
        },
        modelsUsingFeature: () => ['churn'],
        logger: silentLogger,
      });
      const evaluator = await open([...DEFAULT_ALERT_RULES], { retrain });
      expect(await evaluator.evaluate([featureSample('age', 1)])).toHaveLength(1);
      await retrain.idle();
      expect(attempts).toBe(1);
      expect(await evaluator.evaluate([featureSample('age', 0)])).toHaveLength(1);
    });
  });

  describe('REST routes', () => {
    const app = () => {
      const http = createHttpServer({
        logger: silentLogger,
        metrics: new Registry(),
        stores: {},
        isAccepting: () => true,
      });
      registerAlertRoutes(http, { alerts: store });
      return http;
    };
    const get = async (url: string) => {
      const response = await app().inject({ method: 'GET', url });
      return { status: response.statusCode, body: response.json() as { alerts: Alert[]; code?: string } };
    };

    it('lists alerts by state and answers one by id', async () => {
      const evaluator = await open([{ ...driftRule, forMs: 0 }]);
      const [first] = await evaluator.evaluate([share(0.9, T0, 'churn'), share(0.1, T0, 'fraud')]);
      clock.advance(MINUTE);
      await evaluator.evaluate([share(0.1, clock.now(), 'churn'), share(0.9, clock.now(), 'fraud')]);
      const firing = await get('/v1/alerts?state=firing');
      expect(firing.body.alerts.map((a) => a.labels.model)).toEqual(['fraud']);
      const resolved = await get('/v1/alerts?state=resolved');
      expect(resolved.body.alerts.map((a) => [a.labels.model, a.resolvedAt])).toEqual([
        ['churn', T0 + MINUTE],
      ]);
      expect((await get('/v1/alerts')).body.alerts).toHaveLength(2);
      expect((await get('/v1/alerts?state=all&limit=1')).body.alerts).toHaveLength(1);
      const one = await get(`/v1/alerts/${first!.alert.id}`);
      expect(one).toMatchObject({ status: 200, body: { id: first!.alert.id, state: 'resolved' } });
    });

    it('answers 404 for an unknown id and 400 for an unknown state', async () => {
      expect(await get('/v1/alerts/nope')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
      expect(await get('/v1/alerts?state=loud')).toMatchObject({
        status: 400,
        body: { code: 'INVALID_ARGUMENT' },
      });
      expect(await get('/v1/alerts?limit=0')).toMatchObject({
        status: 400,
        body: { code: 'INVALID_ARGUMENT' },
      });
    });
  });
});
