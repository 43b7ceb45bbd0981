import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseLabelsRequest } from '../../src/monitoring/labels/schema.js';
import { createLabelStore, type LabelStore } from '../../src/monitoring/labels/store.js';
import { LABELS_TABLE } from '../../src/monitoring/labels/table.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from '../../src/serving/prediction-log-event.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const DAY = 24 * 3600 * 1000;

function prediction(requestId: string, row: number, at: number, user: number | string, model = 'churn') {
  return {
    request_id: requestId,
    row,
    model,
    version: 2,
    protocol: 'v2',
    time: at,
    entity_keys: { user_id: user },
    feature_names: null,
    features: [1],
    output: { label: 1, probabilities: [0.3, 0.7] },
    latency_ms: 1,
  };
}

async function storedLabels(offline: OfflineStore) {
  return offline.query<{ request_id: string; row: number; label: unknown; version: bigint }>(
    `SELECT request_id, "row", label, version FROM ${LABELS_TABLE} ORDER BY request_id, "row"`,
  );
}

describe('label store', () => {
  let offline: OfflineStore;
  let clock: ManualClock;
  let labels: LabelStore;

  beforeEach(async () => {
    offline = await createOfflineStore('duckdb::memory:', { dataDir: '.', logger: silentLogger });
    clock = new ManualClock(T0 + DAY);
    labels = createLabelStore({ offline, logger: silentLogger, clock });
  });
  afterEach(async () => {
    await offline.close();
  });

  it('counts every label as unknown while no prediction has been logged', async () => {
    const result = await labels.ingest(
      parseLabelsRequest({ labels: [{ predictionId: 'r1', label: 1 }] }).labels,
    );
    expect(result).toEqual({ accepted: 0, duplicates: 0, unknown: 1, outsideLookback: 0 });
  });

  it('stores labels by prediction id and row, and counts unknown ids and rows without failing', async () => {
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.append(PREDICTIONS_TABLE, [prediction('r1', 0, T0, 101), prediction('r1', 1, T0, 102)]);
    const body = {
      labels: [
        { predictionId: 'r1', row: 0, label: 1 },
        { predictionId: 'r1', row: 1, label: 'yes' },
        { predictionId: 'r1', row: 2, label: 0 },
        { predictionId: 'nope', label: 0 },
      ],
    };
    const result = await labels.ingest(parseLabelsRequest(body).labels);
    expect(result).toEqual({ accepted: 2, duplicates: 0, unknown: 2, outsideLookback: 0 });
    const rows = await storedLabels(offline);
    expect(rows.map((r) => [r.request_id, r.row, r.label, Number(r.version)])).toEqual([
      ['r1', 0, 1, 2],
      ['r1', 1, 'yes', 2],
    ]);
  });

  it('keeps the first label of a prediction row and counts repeats, within a request and across requests', async () => {
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.append(PREDICTIONS_TABLE, [prediction('r1', 0, T0, 101)]);
    const first = await labels.ingest(
      parseLabelsRequest({
        labels: [
          { predictionId: 'r1', label: 1 },
          { predictionId: 'r1', row: 0, label: 0 },
        ],
      }).labels,
    );
    expect(first).toEqual({ accepted: 1, duplicates: 1, unknown: 0, outsideLookback: 0 });
    const again = await Promise.all([
      labels.ingest(parseLabelsRequest({ labels: [{ predictionId: 'r1', label: 0 }] }).labels),
      labels.ingest(parseLabelsRequest({ labels: [{ predictionId: 'r1', label: 0 }] }).labels),
    ]);
    expect(again.map((r) => r.duplicates)).toEqual([1, 1]);
    expect((await storedLabels(offline)).map((r) => r.label)).toEqual([1]);
  });

  it('counts labels for predictions older than the lookback as outside it', async () => {
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.append(PREDICTIONS_TABLE, [
      prediction('old', 0, T0 - 20 * DAY, 1),
      prediction('new', 0, T0, 1),
    ]);
    const result = await labels.ingest(
      parseLabelsRequest({
        labels: [
          { predictionId: 'old', label: 1 },
          { predictionId: 'new', label: 1 },
        ],
      }).labels,
    );
    expect(result).toEqual({ accepted: 1, duplicates: 0, unknown: 0, outsideLookback: 1 });
    const short = createLabelStore({ offline, logger: silentLogger, clock, lookbackMs: DAY / 2 });
    clock.advance(DAY);
    const late = await short.ingest(
      parseLabelsRequest({ labels: [{ predictionId: 'new', label: 1 }] }).labels,
    );
    expect(late.outsideLookback).toBe(1);
  });

  it('gives an entity label to the latest prediction for that entity at or before its time', async () => {
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    await offline.append(PREDICTIONS_TABLE, [
      prediction('a', 0, T0 - 3600_000, 101),
      prediction('b', 0, T0, 101),
      prediction('c', 0, T0 + 3600_000, 101),
      prediction('d', 0, T0, 102),
      prediction('e', 0, T0, 101, 'other-model'),
      prediction('f', 0, T0 - 3600_000, 'u-7'),
    ]);
    const at = new Date(T0 + 60_000).toISOString();
    const result = await labels.ingest(
      parseLabelsRequest({
        labels: [
          { model: 'churn', entity: { user_id: 101 }, time: at, label: 1 },
          { model: 'churn', entity: { user_id: 'u-7' }, time: at, label: 0 },
          { model: 'churn', entity: { user_id: 999 }, time: at, label: 0 },
          { model: 'churn', entity: { user_id: 101 }, time: new Date(T0 - 7200_000).toISOString(), label: 0 },
        ],
      }).labels,
    );
    expect(result).toEqual({ accepted: 2, duplicates: 0, unknown: 2, outsideLookback: 0 });
    expect((await storedLabels(offline)).map((r) => [r.request_id, r.label])).toEqual([
      ['b', 1],
      ['f', 0],
    ]);
  });
});

describe('labels request body', () => {
  const fieldOf = (body: unknown): string => {
    try {
      parseLabelsRequest(body);
    } catch (err) {
      return (err as { details: { field: string } }).details.field;
    }
    return 'accepted';
  };

  it('names the bad field of a label by its JSON path', () => {
    expect(fieldOf({})).toBe('labels');
    expect(fieldOf({ labels: [] })).toBe('labels');
    expect(
      fieldOf({
        labels: [
          { predictionId: 'r', label: 1 },
          { predictionId: 'r', label: [1] },
        ],
      }),
    ).toBe('labels[1].label');
    expect(fieldOf({ labels: [{ predictionId: 'r', row: -1, label: 1 }] })).toBe('labels[0].row');
    expect(fieldOf({ labels: [{ predictionId: 'r', label: 1, colour: 'red' }] })).toBe('labels[0].colour');
    expect(fieldOf({ labels: [{ model: 'm', entity: { user_id: 1 }, time: 'yesterday', label: 1 }] })).toBe(
      'labels[0].time',
    );
    expect(fieldOf({ labels: [{ model: 'm', entity: {}, time: '2026-01-01T00:00:00Z', label: 1 }] })).toBe(
      'labels[0].entity',
    );
    expect(fieldOf({ labels: [{ predictionId: 'r', label: 1 }], extra: true })).toBe('extra');
    expect(
      fieldOf({ labels: [{ model: 'm', entity: { 'a b': 1 }, time: '2026-01-01T00:00:00Z', label: 1 }] }),
    ).toBe('labels[0].entity.a b');
    expect(fieldOf({ labels: [{ predictionId: 'r', label: 1 }] })).toBe('accepted');
  });
});
