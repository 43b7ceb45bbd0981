/**
 * A prediction log event: one per predicted row, as published to the `predictions` topic and stored
 * in the offline `predictions` table.
 */
import type { OfflineSchema } from '../stores/offline/port.js';
import type { InferenceObservation } from './inference-observation.js';

export const PREDICTIONS_TOPIC = 'predictions';
export const PREDICTIONS_TABLE = 'predictions';

export interface PredictionEvent {
  requestId: string;
  /** The row's index in its request. */
  row: number;
  model: string;
  version: number;
  protocol: string;
  /** ISO 8601. */
  time: string;
  entityKeys: Record<string, unknown> | null;
  featureNames: string[] | null;
  /** The input row; null where missing (NaN). */
  features: (number | null)[];
  output: { label?: number | string; probabilities?: number[]; prediction?: number };
  latencyMs: number;
}

export const PREDICTIONS_SCHEMA: OfflineSchema = {
  request_id: 'string',
  row: 'int32',
  model: 'string',
  version: 'int64',
  protocol: 'string',
  time: 'timestamp',
  entity_keys: 'json',
  feature_names: 'json',
  features: 'json',
  output: 'json',
  latency_ms: 'float64',
};

/** The event of row `row` of a successful observation. */
export function predictionEvent(o: InferenceObservation, row: number): PredictionEvent {
  const width = o.batch ? o.batch.values.length / Math.max(1, o.batch.rows) : 0;
  const values = o.batch ? Array.from(o.batch.values.subarray(row * width, (row + 1) * width)) : [];
  return {
    requestId: o.requestId,
    row,
    model: o.model,
    version: o.version,
    protocol: o.protocol,
    time: new Date(o.time).toISOString(),
    entityKeys: o.entityKeys ? rowOf(o.entityKeys, row) : null,
    featureNames: o.featureNames ?? null,
    features: values.map((v) => (Number.isNaN(v) ? null : v)),
    output: outputOf(o, row),
    latencyMs: o.requestSeconds * 1000,
  };
}

/** The table row of an event. */
export function predictionRow(event: PredictionEvent): Record<string, unknown> {
  return {
    request_id: event.requestId,
    row: event.row,
    model: event.model,
    version: event.version,
    protocol: event.protocol,
    time: new Date(event.time),
    entity_keys: event.entityKeys,
    feature_names: event.featureNames,
    features: event.features,
    output: event.output,
    latency_ms: event.latencyMs,
  };
}

function rowOf(columns: Record<string, readonly unknown[]>, row: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(columns).map(([key, values]) => [key, values[row] ?? null]));
}

function outputOf(o: InferenceObservation, row: number): PredictionEvent['output'] {
  const p = o.prediction;
  if (!p) return {};
  const output: PredictionEvent['output'] = {};
  if (p.predictions) output.prediction = p.predictions[row] ?? Number.NaN;
  if (p.label) {
    const index = p.label[row] ?? 0;
    output.label = o.classLabels?.[index] ?? index;
  }
  if (p.probabilities && o.batch && o.batch.rows > 0) {
    const classes = p.probabilities.length / o.batch.rows;
    output.probabilities = Array.from(p.probabilities.subarray(row * classes, (row + 1) * classes));
  }
  return output;
}
