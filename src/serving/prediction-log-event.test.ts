import { describe, expect, it } from 'vitest';
import type { InferenceObservation } from './inference-observation.js';
import { type PredictionLine, predictionLines } from './prediction-log-event.js';

const base: InferenceObservation = {
  requestId: 'req "7"',
  model: 'churn',
  version: 3,
  protocol: 'predict',
  time: Date.UTC(2026, 10, 24, 1, 2, 3, 456),
  requestSeconds: 0.0125,
  ok: true,
};

function parse(text: string): PredictionLine[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as PredictionLine);
}

describe('prediction log lines', () => {
  it('writes one JSON line per row with the table columns, NaN as null and class labels by name', () => {
    const lines = parse(
      predictionLines({
        ...base,
        batch: { rows: 2, values: new Float32Array([1.5, Number.NaN, -0.25, 1e-7]) },
        prediction: {
          probabilities: new Float32Array([0.25, 0.75, 0.5, 0.5]),
          label: new Int32Array([1, 0]),
        },
        classLabels: ['stays', 'churns'],
        featureNames: ['amount', 'age'],
        entityKeys: { user_id: [101, 102n], country: ['fr', null] },
      }),
    );
    expect(lines).toEqual([
      {
        request_id: 'req "7"',
        row: 0,
        model: 'churn',
        version: 3,
        protocol: 'predict',
        time: '2026-11-24T01:02:03.456Z',
        latency_ms: 12.5,
        feature_names: ['amount', 'age'],
        entity_keys: { user_id: 101, country: 'fr' },
        features: [1.5, null],
        output: { label: 'churns', probabilities: [0.25, 0.75] },
      },
      {
        request_id: 'req "7"',
        row: 1,
        model: 'churn',
        version: 3,
        protocol: 'predict',
        time: '2026-11-24T01:02:03.456Z',
        latency_ms: 12.5,
        feature_names: ['amount', 'age'],
        entity_keys: { user_id: 102, country: null },
        features: [-0.25, Math.fround(1e-7)],
        output: { label: 'stays', probabilities: [0.5, 0.5] },
      },
    ]);
  });

  it('writes a regressor prediction, no entity keys, and only the rows that fitted the buffer', () => {
    const lines = parse(
      predictionLines(
        {
          ...base,
          batch: { rows: 3, values: new Float64Array([1, 2, 3]) },
          prediction: { predictions: new Float64Array([0.1, Number.POSITIVE_INFINITY, 0.3]) },
        },
        2,
      ),
    );
    expect(lines.map((l) => [l.row, l.features, l.output, l.entity_keys, l.feature_names])).toEqual([
      [0, [1], { prediction: 0.1 }, null, null],
      [1, [2], { prediction: null }, null, null],
    ]);
  });

  it('writes pure ASCII, escaping other characters, so the bytes decode to the same values', () => {
    const text = predictionLines({
      ...base,
      model: 'churn-modèle',
      batch: { rows: 1, values: new Float64Array([1]) },
      prediction: { label: new Int32Array([0]) },
      classLabels: ['reste 😀'],
      entityKeys: { ville: ['Zürich'] },
    });
    expect([...text].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
    const [line] = parse(Buffer.from(text, 'latin1').toString('utf8'));
    expect([line!.model, line!.output.label, line!.entity_keys]).toEqual([
      'churn-modèle',
      'reste 😀',
      { ville: 'Zürich' },
    ]);
  });

  it('writes nothing for an observation without a batch', () => {
    expect(predictionLines(base)).toBe('');
  });
});
