/** Schemas of the monitor's baseline and alert answers (src/monitoring/baseline/profile.ts, alerts/alert.ts). */
import { object, ref, type Schema } from './common.js';

const nullableNumber: Schema = { type: ['number', 'null'] };
const role: Schema = { type: 'string', enum: ['feature', 'prediction', 'label'] };
const columnType: Schema = { type: 'string', enum: ['numerical', 'categorical'] };

const sample = object({
  path: { type: 'string', description: 'Artifact path of a Parquet file with columns `column` and `value`' },
  sha256: { type: 'string' },
  seed: { type: 'integer' },
  sampleSize: { type: 'integer', description: 'The per-column cap asked for' },
  counts: {
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Values sampled per numeric column',
  },
});

const profileHead = {
  model: { type: 'string' },
  version: { type: 'integer' },
  rows: { type: 'integer' },
  features: { type: 'array', items: { type: 'string' } },
  prediction: { type: ['string', 'null'] },
  label: { type: ['string', 'null'] },
  sample: ref('BaselineSample'),
  createdAt: { type: 'string', format: 'date-time' },
} satisfies Record<string, Schema>;

/** The baseline routes' bodies and answers. */
export const BASELINE_SCHEMAS: Record<string, Schema> = {
  BaselineUpload: object(
    {
      file: { type: 'string', format: 'binary', description: 'The reference dataset: CSV, Parquet or JSONL' },
      format: { type: 'string', enum: ['csv', 'parquet', 'jsonl'], description: 'Default: from the file' },
      features: {
        type: 'string',
        description: 'Feature columns, comma-separated (default: every other column)',
      },
      prediction: { type: 'string', description: 'The prediction output column' },
      label: { type: 'string', description: 'The label column' },
      categorical: { type: 'string', description: 'Columns to treat as categorical, comma-separated' },
      sampleSize: {
        type: 'string',
        pattern: '^[0-9]+$',
        description: 'Sampled values per numeric column (default 100000)',
      },
      seed: { type: 'string', pattern: '^[0-9]+$', description: 'Sampling seed (default 42)' },
    },
    ['format', 'features', 'prediction', 'label', 'categorical', 'sampleSize', 'seed'],
  ),
  BaselineSample: sample,
  BaselineSummary: object({
    ...profileHead,
    columns: {
      type: 'object',
      additionalProperties: object({ type: columnType, role, nullShare: { type: 'number' } }),
    },
  }),
  BaselineProfile: {
    type: 'object',
    required: [...Object.keys(profileHead), 'format', 'binning', 'topCategories', 'columns'],
    properties: {
      ...profileHead,
      format: { type: 'string', enum: ['csv', 'parquet', 'jsonl'] },
      binning: {
        type: 'object',
        description: 'Equal-frequency bins: cut points at the reference deciles, closed on the right',
      },
      topCategories: { type: 'integer' },
      columns: {
        type: 'object',
        description:
          'Per column: numerical (min, max, mean, std, quantiles, bins) or categorical (categories, other)',
        additionalProperties: {
          type: 'object',
          required: ['type'],
          properties: {
            type: columnType,
            role,
            min: nullableNumber,
            max: nullableNumber,
            mean: nullableNumber,
            std: nullableNumber,
          },
        },
      },
    },
  },
};

/** The alert routes' answers. */
export const ALERT_SCHEMAS: Record<string, Schema> = {
  Alert: object({
    id: { type: 'string' },
    fingerprint: { type: 'string', description: '16 hex digits over the rule and its labels' },
    rule: { type: 'string' },
    severity: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'firing', 'resolved'] },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    value: { type: 'number', description: 'The metric value that last changed the state' },
    activeAt: { type: 'integer', description: 'When the condition started to hold, epoch ms' },
    firedAt: { type: ['integer', 'null'] },
    resolvedAt: { type: ['integer', 'null'] },
  }),
};
