import { describe, expect, it } from 'vitest';
import { stepQueue, stepSendOptions } from '../../src/pipelines/dispatch.js';
import { canonicalJson, runKey } from '../../src/pipelines/run-key.js';

const DATE = new Date('2026-03-01T00:00:00Z');

describe('run keys', () => {
  it('writes JSON with keys sorted at every depth, keeping array order', () => {
    expect(canonicalJson({ b: [{ z: 1, a: null }], a: 'x', u: undefined })).toBe(
      '{"a":"x","b":[{"a":null,"z":1}]}',
    );
  });

  it('gives equal keys for equal parameters in any order, and different keys for other values, dates or pipelines', () => {
    const key = runKey('train', { model: 'churn', window: { days: 7, from: 1 } }, DATE);
    expect(runKey('train', { window: { from: 1, days: 7 }, model: 'churn' }, new Date(DATE.getTime()))).toBe(
      key,
    );
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const others = [
      runKey('train', { model: 'churn', window: { days: 8, from: 1 } }, DATE),
      runKey('train', { model: 'churn', window: { days: 7, from: 1 } }, new Date('2026-03-02T00:00:00Z')),
      runKey('retrain', { model: 'churn', window: { days: 7, from: 1 } }, DATE),
      runKey('train', { model: 'churn', window: { days: '7', from: 1 } }, DATE),
    ];
    expect(new Set([key, ...others]).size).toBe(5);
  });
});

describe('step jobs', () => {
  const step = {
    runId: 'r1',
    pipeline: 'train',
    name: 'fit',
    queue: 'gpu',
    maxAttempts: 4,
    retryDelayMs: 1500,
    timeoutMs: 90_000,
  };

  it('maps a step to a singleton job on its queue with its attempts, backoff and an expiry past its timeout', () => {
    expect(stepQueue('gpu')).toBe('pipeline.gpu');
    expect(stepSendOptions(step)).toEqual({
      singletonKey: 'r1/fit',
      retryLimit: 3,
      retryDelaySeconds: 2,
      retryBackoff: true,
      expireInSeconds: 120,
    });
  });

  it('retries at once when the step asks for no delay, and caps the expiry below pg-boss limit of a day', () => {
    const options = stepSendOptions({ ...step, retryDelayMs: 0, timeoutMs: 7 * 86_400_000 });
    expect(options).toMatchObject({ retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 86_399 });
  });
});
