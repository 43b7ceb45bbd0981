import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { LABELS_TOPIC, LabelConsumer } from '../../src/monitoring/labels/consumer.js';
import { createLabelStore } from '../../src/monitoring/labels/store.js';
import { LABELS_TABLE } from '../../src/monitoring/labels/table.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from '../../src/serving/prediction-log-event.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createEventStream } from '../../src/stores/stream/index.js';
import type { EventStream } from '../../src/stores/stream/port.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the consumer');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('labels from the event stream', () => {
  let offline: OfflineStore;
  let stream: EventStream;
  let consumer: LabelConsumer;

  beforeEach(async () => {
    offline = await createOfflineStore('duckdb::memory:', { dataDir: '.', logger: silentLogger });
    stream = await createEventStream('memory', { dataDir: '.', logger: silentLogger });
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.append(
      PREDICTIONS_TABLE,
      ['p1', 'p2'].map((id) => ({
        request_id: id,
        row: 0,
        model: 'churn',
        version: 1,
        protocol: 'v2',
        time: T0,
        entity_keys: null,
        feature_names: null,
        features: [],
        output: { label: 1 },
        latency_ms: 1,
      })),
    );
    const labels = createLabelStore({ offline, logger: silentLogger, clock: new ManualClock(T0 + 1000) });
    consumer = await LabelConsumer.start(stream, labels, silentLogger, { retryDelayMs: 10 });
  });
  afterEach(async () => {
    await consumer.close();
    await stream.close();
    await offline.close();
  });

  const publish = (text: string) =>
    stream.publish(LABELS_TOPIC, [{ key: 'labels', data: new TextEncoder().encode(text) }]);

  it('stores single labels and batches as POST /v1/labels does, and dead-letters messages that are not labels', async () => {
    await publish(JSON.stringify({ predictionId: 'p1', label: 1 }));
    await publish(
      JSON.stringify({
        labels: [
          { predictionId: 'p2', label: 0 },
          { predictionId: 'p1', label: 0 },
          { predictionId: 'p9', label: 0 },
        ],
      }),
    );
    await publish('not json');
    await publish(JSON.stringify({ predictionId: 'p2', label: [0] }));
    await until(() => consumer.totals.accepted + consumer.totals.deadLettered >= 4);
    expect(consumer.totals).toEqual({
      accepted: 2,
      duplicates: 1,
      unknown: 1,
      outsideLookback: 0,
      deadLettered: 2,
    });
    const rows = await offline.query<{ request_id: string; label: unknown }>(
      `SELECT request_id, label FROM ${LABELS_TABLE} ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: 'p1', label: 1 },
      { request_id: 'p2', label: 0 },
    ]);
  });
});
