import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { SERVING_ERROR_RATIO } from '../../src/core/serving-metrics.js';
import { AlertStore } from '../../src/monitoring/alerts/alert-store.js';
import { AlertEvaluator, type MetricSample } from '../../src/monitoring/alerts/evaluator.js';
import { SERVING_ERROR_RATIO as MONITORED } from '../../src/monitoring/metric-names.js';
import type { InferenceObservation } from '../../src/serving/inference-observation.js';
import { type ErrorRatio, LatencyStats } from '../../src/serving/latency.js';
import { inferBody, type ServedPlatform, startServedPlatform } from './served-platform.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A request that names the wrong number of features: the server answers 400 and counts a failure. */
const badBody = JSON.stringify({
  inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }],
});

function observation(clock: ManualClock, model: string, ok: boolean): InferenceObservation {
  return {
    requestId: `r${clock.now()}`,
    model,
    version: 1,
    protocol: 'rest',
    time: clock.now(),
    requestSeconds: 0.002,
    ok,
  };
}

/** What the monitoring target sends the alert evaluator: one sample per version with requests. */
const samples = (ratios: ErrorRatio[], time: number): MetricSample[] =>
  ratios.map((r) => ({
    metric: MONITORED,
    labels: { model: r.model, version: r.version },
    value: r.ratio,
    time,
  }));

describe('serving error ratio', { timeout: 120_000 }, () => {
  let served: ServedPlatform;
  let url: string;

  beforeAll(async () => {
    served = await startServedPlatform('error-ratio');
    url = served.platform.httpUrl;
  }, 120_000);

  afterAll(async () => served?.stop());

  it('exports failed / all inference requests of each served version on /metrics', async () => {
    const path = `${url}/v2/models/${served.model.name}/infer`;
    const send = (body: string) =>
      fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (let i = 0; i < 6; i++) expect((await send(inferBody(served.rows.slice(i, i + 2)))).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(badBody)).status).toBe(400);
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${SERVING_ERROR_RATIO}{model="${served.model.name}",version="1"}`));
    expect(Number(line?.split(' ')[1])).toBe(2 / 8);
    const stats = (await (await fetch(`${url}/v1/models/${served.model.name}/stats`)).json()) as {
      versions: Record<string, { requests: number; errors: number }>;
    };
    expect(stats.versions['1']).toMatchObject({ requests: 8, errors: 2 });
  });

  it("drives MeridianServingErrorRate from the tracker's ratios: pending above 5%, firing after 5 minutes, resolved below", async () => {
    const clock = new ManualClock(T0);
    const stats = new LatencyStats(new Registry(), { clock });
    const store = await AlertStore.open(served.platform.stores.state!);
    const evaluator = await AlertEvaluator.open({ store, logger: silentLogger, clock });
    for (let i = 0; i < 19; i++) stats.observe(observation(clock, 'churn', i >= 2));
    const [pending] = await evaluator.evaluate(samples(stats.recentErrorRatios(), clock.now()));
    expect(pending).toMatchObject({ from: 'inactive', to: 'pending' });
    expect(pending!.alert.labels).toMatchObject({ alertname: 'MeridianServingErrorRate', model: 'churn' });
    clock.advance(5 * MINUTE);
    const [firing] = await evaluator.evaluate(samples(stats.recentErrorRatios(), clock.now()));
    expect(firing).toMatchObject({ from: 'pending', to: 'firing' });
    for (let i = 0; i < 100; i++) stats.observe(observation(clock, 'churn', true));
    const [resolved] = await evaluator.evaluate(samples(stats.recentErrorRatios(), clock.now()));
    expect(resolved).toMatchObject({ from: 'firing', to: 'resolved' });
  });
});

describe('serving error ratio window', () => {
  it('rolls failures out of the window as its slots expire, and drops versions left without requests', async () => {
    const clock = new ManualClock(T0);
    const registry = new Registry();
    const stats = new LatencyStats(registry, { clock });
    for (let i = 0; i < 3; i++) stats.observe(observation(clock, 'churn', false));
    stats.observe(observation(clock, 'churn', true));
    stats.observe(observation(clock, 'fraud', true));
    expect(stats.recentErrorRatios()).toEqual([
      { model: 'churn', version: '1', requests: 4, errors: 3, ratio: 0.75 },
      { model: 'fraud', version: '1', requests: 1, errors: 0, ratio: 0 },
    ]);
    clock.advance(3 * MINUTE);
    for (let i = 0; i < 4; i++) stats.observe(observation(clock, 'churn', true));
    expect(stats.recentErrorRatios()[0]).toMatchObject({ requests: 8, errors: 3, ratio: 3 / 8 });
    clock.advance(3 * MINUTE);
    expect(stats.recentErrorRatios()).toEqual([
      { model: 'churn', version: '1', requests: 4, errors: 0, ratio: 0 },
    ]);
    expect(await registry.getSingleMetricAsString(SERVING_ERROR_RATIO)).toContain(
      `${SERVING_ERROR_RATIO}{model="churn",version="1"} 0`,
    );
    clock.advance(5 * MINUTE);
    expect(stats.recentErrorRatios()).toEqual([]);
    expect(await registry.getSingleMetricAsString(SERVING_ERROR_RATIO)).not.toContain('model="churn"');
  });
});
