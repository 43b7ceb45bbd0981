import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { InferenceObservation } from '../../src/serving/inference-observation.js';
import { LatencyStats } from '../../src/serving/latency.js';
import { inferBody, type ServedPlatform, startServedPlatform } from './served-platform.js';

function observation(model: string, version: number, ms: number, ok = true): InferenceObservation {
  return {
    requestId: 'r',
    model,
    version,
    protocol: 'rest',
    time: 0,
    requestSeconds: ms / 1000,
    computeSeconds: ms / 2000,
    ok,
  };
}

describe('latency stats over the recent window', () => {
  it('answers p50/p95/p99 of recorded latencies exact to three significant digits', () => {
    const stats = new LatencyStats(createMetricsRegistry(false), { clock: new ManualClock(1_000_000) });
    // 1..1000 ms in shuffled order: the true percentiles are 500, 950 and 990 ms.
    const latencies = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) + 1);
    for (const ms of latencies) stats.observe(observation('churn', 3, ms));
    const v3 = stats.stats('churn').versions['3']!;
    expect(v3.requests).toBe(1000);
    expect(v3.errors).toBe(0);
    for (const [actual, expected] of [
      [v3.p50Ms, 500],
      [v3.p95Ms, 950],
      [v3.p99Ms, 990],
    ] as const) {
      expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(1e-3);
    }
  });

  it("splits a pooled batch's time inside predict into queue time and compute time", async () => {
    const registry = createMetricsRegistry(false);
    const stats = new LatencyStats(registry, { clock: new ManualClock(1_000_000) });
    stats.observe({
      ...observation('churn', 3, 10),
      computeSeconds: 0.004,
      prediction: { predictions: new Float64Array(1), queueSeconds: 0.003 },
    });
    stats.observe(observation('churn', 3, 10));
    const sums = await registry.getMetricsAsJSON();
    const sum = (name: string) =>
      (sums.find((m) => m.name === name)!.values as { metricName?: string; value: number }[]).find(
        (v) => v.metricName === `${name}_sum`,
      )!.value;
    expect(sum('meridian_inference_queue_seconds')).toBeCloseTo(0.003, 12);
    expect(sum('meridian_inference_compute_seconds')).toBeCloseTo(0.001 + 0.005, 12);
  });

  it('counts errors per version and keeps them out of the percentiles', () => {
    const stats = new LatencyStats(createMetricsRegistry(false), { clock: new ManualClock(0) });
    for (let i = 0; i < 10; i++) stats.observe(observation('m', 1, 2));
    stats.observe(observation('m', 1, 5000, false));
    stats.observe(observation('m', 2, 7, false));
    stats.observe(observation('other', 1, 1));
    const { versions } = stats.stats('m');
    expect(Object.keys(versions)).toEqual(['1', '2']);
    expect(versions['1']).toMatchObject({ requests: 11, errors: 1 });
    expect(versions['1']!.p99Ms).toBeLessThan(2.01);
    expect(versions['2']).toEqual({ requests: 1, errors: 1, p50Ms: null, p95Ms: null, p99Ms: null });
  });

  it('forgets requests once they are older than the window', () => {
    const clock = new ManualClock(0);
    const stats = new LatencyStats(createMetricsRegistry(false), { clock, windowMs: 300_000, slots: 5 });
    stats.observe(observation('m', 1, 100));
    clock.advance(120_000);
    stats.observe(observation('m', 1, 10));
    expect(stats.stats('m').versions['1']!.requests).toBe(2);
    clock.advance(240_000);
    const later = stats.stats('m');
    expect(later.window).toBe('5m');
    expect(later.versions['1']).toMatchObject({ requests: 1, p99Ms: expect.closeTo(10, 1) });
    clock.advance(300_000);
    expect(stats.stats('m').versions).toEqual({});
  });
});

describe('GET /v1/models/{name}/stats on a running platform', { timeout: 90_000 }, () => {
  let served: ServedPlatform;

  beforeAll(async () => {
    served = await startServedPlatform('model-stats');
  }, 90_000);

  afterAll(async () => served?.stop());

  it('answers request and error counts and percentiles per version after OIP requests', async () => {
    const { platform, model, rows } = served;
    const url = `${platform.httpUrl}/v2/models/${model.name}/infer`;
    const post = (body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (let i = 0; i < 5; i++) expect((await post(inferBody(rows.slice(0, 2)))).status).toBe(200);
    const wrongShape = rows.slice(0, 1).map((row) => row.slice(1));
    expect((await post(inferBody(wrongShape))).status).toBe(400);

    const res = await fetch(`${platform.httpUrl}/v1/models/${model.name}/stats`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      model: string;
      window: string;
      versions: Record<string, Record<string, number>>;
    };
    expect(body).toMatchObject({ model: model.name, window: '5m' });
    expect(Object.keys(body.versions)).toEqual(['1']);
    const v1 = body.versions['1']!;
    expect(v1).toMatchObject({ requests: 6, errors: 1 });
    expect(v1.p50Ms).toBeGreaterThan(0);
    expect(v1.p50Ms).toBeLessThanOrEqual(v1.p95Ms!);
    expect(v1.p95Ms).toBeLessThanOrEqual(v1.p99Ms!);
  });

  it('answers NOT_FOUND for a model that is not registered', async () => {
    const res = await fetch(`${served.platform.httpUrl}/v1/models/no-such-model/stats`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('no-such-model');
  });

  it('exports request, queue and compute histograms labelled by model, version and protocol in /metrics', async () => {
    const text = await (await fetch(`${served.platform.httpUrl}/metrics`)).text();
    const labels = `model="${served.model.name}",version="1",protocol="rest"`;
    for (const name of [
      'meridian_inference_request_seconds',
      'meridian_inference_compute_seconds',
      'meridian_inference_queue_seconds',
    ]) {
      const count = new RegExp(`^${name}_count\\{${labels}\\} (\\d+)$`, 'm').exec(text);
      expect(count, `${name} in /metrics`).not.toBeNull();
      expect(Number(count![1])).toBeGreaterThanOrEqual(5);
    }
  });
});
