import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import Fastify from 'fastify';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceServiceClass } from '../../src/api/oip-grpc.js';
import { registerOipRoutes } from '../../src/api/oip-rest.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { InferenceObservation } from '../../src/serving/inference-observation.js';
import { PredictionLog } from '../../src/serving/prediction-log.js';
import { PREDICTIONS_TOPIC, predictionLines } from '../../src/serving/prediction-log-event.js';
import { PredictionSink } from '../../src/serving/prediction-sink.js';
import { startModelServing } from '../../src/serving/service.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createEventStream } from '../../src/stores/stream/index.js';
import { deadLetterTopic, type StreamMessage } from '../../src/stores/stream/port.js';
import { tempStoreDir } from '../helpers/servers.js';
import { inferBody, type ServedPlatform, startServedPlatform } from './served-platform.js';

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function predictionCount(offline: OfflineStore): Promise<number> {
  const [row] = await offline.query<{ n: bigint }>('SELECT count(*) AS n FROM predictions');
  return Number(row!.n);
}

const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

describe('the prediction log on a running platform', { timeout: 90_000 }, () => {
  let served: ServedPlatform;

  beforeAll(async () => {
    served = await startServedPlatform('prediction-log');
  }, 90_000);

  afterAll(async () => served?.stop());

  it('lands every predicted row of an OIP REST request in the offline predictions table', async () => {
    const { platform, model, rows } = served;
    const started = Date.now();
    const input = rows.slice(0, 3);
    const res = await fetch(`${platform.httpUrl}/v2/models/${model.name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: inferBody(input, 'req-logged'),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    const labels = answer.outputs.find((o) => o.name === 'label')!.data;
    const probabilities = answer.outputs.find((o) => o.name === 'probabilities')!.data;

    const offline = platform.stores.offline!;
    const stored = await until(async () => {
      const found = await offline
        .query(`SELECT * FROM predictions WHERE request_id = 'req-logged' ORDER BY "row"`)
        .catch(() => []);
      return found.length === 3 ? found : undefined;
    }, 'three logged predictions');
    stored.forEach((row, i) => {
      expect(row).toMatchObject({ model: model.name, version: 1n, protocol: 'rest', row: i });
      expect((row.time as Date).getTime()).toBeGreaterThanOrEqual(started - 1000);
      expect(row.latency_ms).toBeGreaterThan(0);
      expect(parse(row.entity_keys)).toBeNull();
      expect(parse(row.features)).toEqual(input[i]!.map((v) => (Number.isNaN(v) ? null : v)));
      const output = parse(row.output) as { label: number; probabilities: number[] };
      expect(output.label).toBe(labels[i]);
      expect(output.probabilities).toHaveLength(2);
      output.probabilities.forEach((p, c) => {
        expect(p).toBeCloseTo(probabilities[i * 2 + c]!, 6);
      });
    });
  });

  it("logs gRPC ModelInfer predictions too, under the client's request id", async () => {
    const { platform, model, rows } = served;
    const Service = inferenceServiceClass();
    const client = new Service(platform.grpcUrl.replace('grpc://', ''), grpc.credentials.createInsecure());
    const input = rows.slice(0, 2);
    try {
      await new Promise((resolve, reject) => {
        const infer = (
          client as unknown as Record<string, (r: unknown, cb: grpc.requestCallback<unknown>) => void>
        ).ModelInfer!;
        infer.call(
          client,
          {
            model_name: model.name,
            id: 'req-grpc',
            inputs: [{ name: 'input', datatype: 'FP64', shape: [input.length, input[0]!.length] }],
            raw_input_contents: [Buffer.from(Float64Array.from(input.flat()).buffer)],
          },
          (err, value) => (err ? reject(err) : resolve(value)),
        );
      });
    } finally {
      client.close();
    }
    const stored = await until(async () => {
      const found = await platform.stores
        .offline!.query(`SELECT protocol FROM predictions WHERE request_id = 'req-grpc'`)
        .catch(() => []);
      return found.length === 2 ? found : undefined;
    }, 'two logged gRPC predictions');
    expect(stored.map((r) => r.protocol)).toEqual(['grpc', 'grpc']);
  });

  it('drops and counts rows when the buffer is full, answering requests without waiting', async () => {
    const { platform, model, rows } = served;
    const registry = createMetricsRegistry(false);
    // A flush interval of an hour: nothing leaves the buffer during the test, so it stays full.
    const log = await PredictionLog.start(platform.stores.stream!, registry, silentLogger, {
      capacity: 2,
      flushIntervalMs: 3_600_000,
    });
    const serving = await startModelServing(platform.stores, silentLogger);
    const app = Fastify();
    registerOipRoutes(app, { resolver: serving.resolver, observer: log });
    try {
      await until(async () => ((await serving.resolver.isReady(model.name)) ? true : undefined), 'ready');
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({
          method: 'POST',
          url: `/v2/models/${model.name}/infer`,
          headers: { 'content-type': 'application/json' },
          payload: inferBody(rows.slice(0, 3)),
        });
        expect(res.statusCode).toBe(200);
      }
      expect(log.buffered).toBe(2);
      const dropped = registry.getSingleMetric('meridian_prediction_log_dropped_total') as Counter;
      const values = (await dropped.get()).values;
      expect(values.find((v) => v.labels.reason === 'buffer_full')?.value).toBe(7);
    } finally {
      await app.close();
      await serving.close();
      await log.close();
    }
  });
});

describe('the offline predictions sink', { timeout: 30_000 }, () => {
  function observation(requestId: string): InferenceObservation {
    return {
      requestId,
      model: 'churn',
      version: 2,
      protocol: 'predict',
      time: Date.now(),
      requestSeconds: 0.004,
      computeSeconds: 0.001,
      ok: true,
      batch: { rows: 1, values: new Float64Array([1.5, Number.NaN]) },
      prediction: { predictions: new Float64Array([0.25]) },
      featureNames: ['a', 'b'],
      entityKeys: { user_id: [101] },
    };
  }

  it('sets aside a message that is not prediction lines, with its reason, and stores the rest of its batch', async () => {
    const dir = tempStoreDir('prediction-sink-bad');
    const stream = await createEventStream('memory', { dataDir: dir, logger: silentLogger });
    const offline = await createOfflineStore('duckdb::memory:', { dataDir: dir, logger: silentLogger });
    try {
      await stream.ensureTopic(PREDICTIONS_TOPIC);
      const sink = await PredictionSink.start(stream, offline, silentLogger, { flushIntervalMs: 20 });
      await stream.publish(PREDICTIONS_TOPIC, [
        { key: 'churn', data: Buffer.from(predictionLines(observation('good-1'))) },
        { key: 'churn', data: Buffer.from('{"request_id": "broken", "row": \n') },
        { key: 'churn', data: Buffer.from(predictionLines(observation('good-2'))) },
      ]);
      await until(async () => ((await predictionCount(offline)) === 2 ? true : undefined), 'good rows');
      const dlq = await stream.consume(deadLetterTopic(PREDICTIONS_TOPIC), { name: 'dlq-check' });
      const dead = (await dlq[Symbol.asyncIterator]().next()).value as StreamMessage;
      await dlq.close();
      await sink.close();
      expect(Buffer.from(dead.data).toString()).toContain('broken');
      expect(Object.values(dead.headers).join(' ')).toContain('not prediction log lines');
      const stored = await offline.query<{ request_id: string }>(
        'SELECT request_id FROM predictions ORDER BY 1',
      );
      expect(stored.map((r) => r.request_id)).toEqual(['good-1', 'good-2']);
    } finally {
      await stream.close();
      await offline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resumes after a restart where the last acked batch ended, storing each event once', async () => {
    const dir = tempStoreDir('prediction-sink');
    const stream = await createEventStream('memory', { dataDir: dir, logger: silentLogger });
    const offline = await createOfflineStore('duckdb::memory:', { dataDir: dir, logger: silentLogger });
    const publish = async (ids: string[]) => {
      await stream.ensureTopic(PREDICTIONS_TOPIC);
      await stream.publish(
        PREDICTIONS_TOPIC,
        ids.map((id) => ({
          key: 'churn',
          data: Buffer.from(predictionLines(observation(id))),
        })),
      );
    };
    try {
      let sink = await PredictionSink.start(stream, offline, silentLogger, { flushIntervalMs: 20 });
      await publish(['a1', 'a2', 'a3']);
      await until(async () => ((await predictionCount(offline)) === 3 ? true : undefined), 'first batch');
      await sink.close();
      await publish(['b1', 'b2']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await predictionCount(offline)).toBe(3);

      sink = await PredictionSink.start(stream, offline, silentLogger, { flushIntervalMs: 20 });
      await until(async () => ((await predictionCount(offline)) === 5 ? true : undefined), 'resumed batch');
      await sink.close();
      const stored = await offline.query<{ request_id: string; entity_keys: unknown; features: unknown }>(
        'SELECT request_id, entity_keys, features FROM predictions ORDER BY request_id',
      );
      expect(stored.map((r) => r.request_id)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
      expect(parse(stored[0]!.entity_keys)).toEqual({ user_id: 101 });
      expect(parse(stored[0]!.features)).toEqual([1.5, null]);
    } finally {
      await stream.close();
      await offline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
