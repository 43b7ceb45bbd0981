import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { createLabelStore } from '../../src/monitoring/labels/store.js';
import { type WindowMetrics, windowMetrics } from '../../src/monitoring/performance/metrics.js';
import { windowCells } from '../../src/monitoring/performance/query.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from '../../src/serving/prediction-log-event.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';

interface Case {
  name: string;
  task: 'binary' | 'multiclass' | 'regression';
  positiveLabel: string | null;
  predictions: { request_id: string; row: number; output: Record<string, unknown> }[];
  labels: { predictionId: string; row: number; label: number | string }[];
  expected: Record<string, number>;
  labelledShare: number;
}

const fixture = JSON.parse(
  readFileSync(join(process.cwd(), 'test', 'fixtures', 'drift', 'performance', 'cases.json'), 'utf8'),
) as { cases: Case[] };

const START = Date.parse('2026-01-01T00:00:00Z');
const DAY = 24 * 3600 * 1000;

/** Within 1e-9, relative to the expected value when it is above 1 in magnitude, else absolute. */
function expectClose(actual: number | null | undefined, expected: number, what: string): void {
  expect(actual, what).toBeTypeOf('number');
  const error = Math.abs((actual as number) - expected) / Math.max(1, Math.abs(expected));
  expect(error, `${what}: ${actual} vs scikit-learn's ${expected}`).toBeLessThanOrEqual(1e-9);
}

describe('window performance against scikit-learn', () => {
  let offline: OfflineStore;
  const results = new Map<string, WindowMetrics>();

  beforeAll(async () => {
    offline = await createOfflineStore('duckdb::memory:', { dataDir: '.', logger: silentLogger });
    await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
    const labels = createLabelStore({ offline, logger: silentLogger, clock: new ManualClock(START + DAY) });
    for (const c of fixture.cases) {
      await offline.append(
        PREDICTIONS_TABLE,
        c.predictions.map((p, i) => ({
          ...p,
          model: c.name,
          version: 1,
          protocol: 'v2',
          time: START + i * 1000,
          entity_keys: null,
          feature_names: null,
          features: [],
          latency_ms: 1,
        })),
      );
      const ingested = await labels.ingest(c.labels);
      expect(ingested.accepted).toBe(c.labels.length);
      const cells = await windowCells(offline, c.name, 1, new Date(START), new Date(START + DAY));
      results.set(c.name, windowMetrics(cells));
    }
  });

  afterAll(async () => {
    await offline?.close();
  });

  for (const c of fixture.cases) {
    it(`matches scikit-learn's ${Object.keys(c.expected).join(', ')} on the ${c.name} case`, () => {
      const result = results.get(c.name)!;
      expect(result.task).toBe(c.task);
      expect(result.positiveLabel).toBe(c.positiveLabel);
      expect(result.predictions).toBe(c.predictions.length);
      expect(result.labelled).toBe(c.labels.length);
      expectClose(result.labelledShare, c.labelledShare, 'labelledShare');
      for (const [metric, expected] of Object.entries(c.expected)) {
        expectClose(result.metrics[metric as keyof WindowMetrics['metrics']], expected, metric);
      }
    });
  }

  it('counts only the predictions inside the window [from, to)', async () => {
    const c = fixture.cases[0]!;
    const cells = await windowCells(offline, c.name, 1, new Date(START + 10_000), new Date(START + 20_000));
    expect(windowMetrics(cells).predictions).toBe(10);
  });
});
