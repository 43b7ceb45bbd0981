/**
 * A bounded load of hydrated predictions, `POST /v1/models/{name}/predict` by user id, from several
 * concurrent clients with a few users per request drawn with the traffic's skew. Latency is measured
 * per request on the client (it shares the demo's process with the server, so figures are indicative)
 * and the percentiles are exact over every sample, not estimated.
 */
import { ActivityGenerator } from './generator.js';

export interface PredictLoadOptions {
  url: string;
  model: string;
  /** Requests to send in all; the load also stops at `maxMs`. */
  requests: number;
  maxMs: number;
  concurrency: number;
  usersPerRequest: number;
  users: number;
  seed: number;
}

/** Latency over every answered request, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface PredictLoadReport {
  model: string;
  requests: number;
  /** Requests that did not answer 200 with one probability pair per user. */
  errors: number;
  errorExamples: string[];
  concurrency: number;
  usersPerRequest: number;
  durationMs: number;
  /** Requests per second over the whole load. */
  throughput: number;
  /** Users scored per second. */
  predictionsPerSecond: number;
  latencyMs: LatencySummary;
  /** The model versions that answered (the production version, unless a promotion raced the load). */
  servedVersions: number[];
  /** The mean churn probability served, as a sanity check of the model's output. */
  meanChurnProbability: number;
}

const MAX_ERROR_EXAMPLES = 5;

/** Sends the load and measures it; never throws for a failed request, it counts it. */
export async function runPredictLoad(options: PredictLoadOptions): Promise<PredictLoadReport> {
  const generator = new ActivityGenerator({ users: options.users, seed: options.seed + 3_000_017 });
  const bodies = Array.from({ length: options.requests }, () =>
    Array.from({ length: options.usersPerRequest }, () => generator.userId()),
  );
  const endpoint = `${options.url}/v1/models/${encodeURIComponent(options.model)}/predict`;
  const latencies: number[] = [];
  const errors: string[] = [];
  const versions = new Set<number>();
  let churnSum = 0;
  let scored = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const client = async () => {
    while (next < bodies.length && performance.now() < deadline) {
      const ids = bodies[next++]!;
      const sent = performance.now();
      const outcome = await predict(endpoint, ids);
      if (typeof outcome === 'string') {
        errors.push(outcome);
        continue;
      }
      latencies.push(performance.now() - sent);
      versions.add(outcome.version);
      churnSum += outcome.churn.reduce((sum, p) => sum + p, 0);
      scored += outcome.churn.length;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const durationMs = performance.now() - started;
  const requests = latencies.length + errors.length;
  return {
    model: options.model,
    requests,
    errors: errors.length,
    errorExamples: [...new Set(errors)].slice(0, MAX_ERROR_EXAMPLES),
    concurrency: options.concurrency,
    usersPerRequest: options.usersPerRequest,
    durationMs: Math.round(durationMs),
    throughput: round((requests / durationMs) * 1000, 1),
    predictionsPerSecond: round((scored / durationMs) * 1000, 1),
    latencyMs: latencySummary(latencies),
    servedVersions: [...versions].sort((a, b) => a - b),
    meanChurnProbability: scored === 0 ? 0 : round(churnSum / scored, 4),
  };
}

/** The answering version and the churn probability of each user, or why the request failed. */
async function predict(
  endpoint: string,
  ids: readonly number[],
): Promise<{ version: number; churn: number[] } | string> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entities: { user_id: ids } }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json().catch(() => ({}))) as {
      version?: number;
      probabilities?: number[][];
      error?: string;
    };
    if (!response.ok) return `${response.status}: ${body.error ?? 'no error message'}`;
    const probabilities = body.probabilities ?? [];
    if (probabilities.length !== ids.length) {
      return `200 with ${probabilities.length} probabilities for ${ids.length} users`;
    }
    return { version: Number(body.version), churn: probabilities.map((pair) => pair[1]!) };
  } catch (err) {
    return (err as Error).name ?? 'network error';
  }
}

/** Exact nearest-rank percentiles of the samples (all zero when there are none). */
export function latencySummary(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return {
    p50: round(rank(0.5), 3),
    p95: round(rank(0.95), 3),
    p99: round(rank(0.99), 3),
    max: round(sorted[sorted.length - 1]!, 3),
    mean: round(mean, 3),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
