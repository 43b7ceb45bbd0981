/**
 * The prediction log's wire format: newline-delimited JSON, one line per predicted row, whose keys
 * are the offline `predictions` table's columns. Lines are written as text straight from the request's
 * typed arrays (no per-row objects, no JSON.stringify of whole events), and the sink hands them to
 * DuckDB's own JSON reader, so neither end parses or builds rows on the serving thread. The reader
 * stores the features as a typed `DOUBLE[]` (a JSON `null` element, a missing value, as NULL).
 */
import type { OfflineSchema } from '../stores/offline/port.js';
import type { InferenceObservation } from './inference-observation.js';

export const PREDICTIONS_TOPIC = 'predictions';
export const PREDICTIONS_TABLE = 'predictions';

/** One line of the log: a predicted row. */
export interface PredictionLine {
  request_id: string;
  /** The row's index in its request. */
  row: number;
  model: string;
  version: number;
  protocol: string;
  /** ISO 8601. */
  time: string;
  entity_keys: Record<string, unknown> | null;
  feature_names: string[] | null;
  /** The input row; null where missing (NaN). */
  features: (number | null)[];
  output: { label?: number | string; probabilities?: number[]; prediction?: number };
  latency_ms: number;
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
  // Typed, not JSON: window drift reads 50M values of a window and parsing them dominated its time.
  features: 'float64[]',
  output: 'json',
  latency_ms: 'float64',
};

/** DuckDB `read_json` column types of a line, in the table's column order. */
export const PREDICTION_LINE_COLUMNS: Record<string, string> = {
  request_id: 'VARCHAR',
  row: 'INTEGER',
  model: 'VARCHAR',
  version: 'BIGINT',
  protocol: 'VARCHAR',
  time: 'TIMESTAMP',
  entity_keys: 'JSON',
  feature_names: 'JSON',
  features: 'DOUBLE[]',
  output: 'JSON',
  latency_ms: 'DOUBLE',
};

/**
 * The lines of the first `rows` rows of a successful observation, each ending in a newline. The text
 * is pure ASCII (other characters are written as JSON `\\u` escapes), so it encodes to bytes with a
 * plain copy (`latin1`), several times faster than UTF-8 encoding a string this large.
 */
export function predictionLines(o: InferenceObservation, rows = o.batch?.rows ?? 0): string {
  const batch = o.batch;
  if (!batch || rows <= 0) return '';
  const width = batch.values.length / Math.max(1, batch.rows);
  const common =
    `{"request_id":${json(o.requestId)},"model":${json(o.model)},` +
    `"version":${o.version},"protocol":${json(o.protocol)},` +
    `"time":"${new Date(o.time).toISOString()}","latency_ms":${number(o.requestSeconds * 1000)},` +
    `"feature_names":${o.featureNames ? JSON.stringify(o.featureNames) : 'null'},"row":`;
  const keys = o.entityKeys
    ? Object.entries(o.entityKeys).map(([k, v]) => [JSON.stringify(k), v] as const)
    : [];
  const output = outputWriter(o, batch.rows);
  // Parts joined once: building the text with += leaves a rope that is flattened again on encoding.
  const parts: string[] = [];
  const features: string[] = new Array(width);
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < width; i++) features[i] = number(batch.values[row * width + i]!);
    let entity = 'null';
    if (keys.length > 0) {
      entity = `{${keys.map(([k, values]) => `${k}:${scalar(values[row])}`).join(',')}}`;
    }
    parts.push(common, String(row), ',"entity_keys":', entity, ',"features":[', features.join(','));
    parts.push('],"output":', output(row), '}\n');
  }
  return parts.join('');
}

/** How one row's output is written: label and probabilities for classifiers, prediction for regressors. */
function outputWriter(o: InferenceObservation, rows: number): (row: number) => string {
  const p = o.prediction;
  if (!p) return () => '{}';
  const classes = p.probabilities && rows > 0 ? p.probabilities.length / rows : 0;
  return (row) => {
    const parts: string[] = [];
    if (p.predictions) parts.push(`"prediction":${number(p.predictions[row] ?? Number.NaN)}`);
    if (p.label) {
      const index = p.label[row] ?? 0;
      parts.push(`"label":${scalar(o.classLabels?.[index] ?? index)}`);
    }
    if (p.probabilities && classes > 0) {
      let list = '';
      for (let c = 0; c < classes; c++)
        list += (c > 0 ? ',' : '') + number(p.probabilities[row * classes + c]!);
      parts.push(`"probabilities":[${list}]`);
    }
    return `{${parts.join(',')}}`;
  };
}

/** A JSON number, or null for NaN (missing) and infinities, which JSON cannot hold. */
function number(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

function scalar(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return number(value);
  return json(value);
}

const HAS_NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/g;

/** JSON text with every non-ASCII character escaped, so the line stays ASCII. */
function json(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  if (!HAS_NON_ASCII.test(text)) return text;
  return text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
