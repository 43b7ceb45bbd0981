import { describe, expect, it } from 'vitest';
import { isMeridianError } from '../core/errors.js';
import { definePipeline } from './define.js';
import { resolveParams } from './params.js';

const pipeline = definePipeline({
  name: 'train',
  params: {
    model: { type: 'string' },
    epochs: { type: 'integer', default: 10 },
    rate: { type: 'number', default: 0.1 },
    dryRun: { type: 'boolean', default: false },
    options: { type: 'object', default: { depth: 3 } },
    views: { type: 'array', default: [] },
  },
  steps: [{ name: 'fit', run: async () => ({}) }],
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isMeridianError(err, 'INVALID_ARGUMENT')) return err.details.field;
    throw err;
  }
  return undefined;
}

describe('resolveParams', () => {
  it('applies defaults for parameters left out', () => {
    expect(resolveParams(pipeline, { model: 'churn' })).toEqual({
      model: 'churn',
      epochs: 10,
      rate: 0.1,
      dryRun: false,
      options: { depth: 3 },
      views: [],
    });
  });

  it('hands each run its own copy of an object default', () => {
    const first = resolveParams(pipeline, { model: 'a' });
    (first.options as { depth: number }).depth = 99;
    expect(resolveParams(pipeline, { model: 'b' }).options).toEqual({ depth: 3 });
  });

  it('accepts an integer for a number but not a fraction for an integer', () => {
    expect(resolveParams(pipeline, { model: 'a', rate: 1 }).rate).toBe(1);
    expect(() => resolveParams(pipeline, { model: 'a', epochs: 2.5 })).toThrow(
      'params.epochs: must be an integer, got number 2.5',
    );
  });

  it('rejects wrong types naming params.NAME', () => {
    expect(() => resolveParams(pipeline, { model: 3 })).toThrow(
      'params.model: must be a string, got integer 3',
    );
    expect(() => resolveParams(pipeline, { model: 'a', epochs: '3' })).toThrow(
      /params\.epochs: must be an integer, got string "3"/,
    );
    expect(() => resolveParams(pipeline, { model: 'a', dryRun: 'yes' })).toThrow(
      /params\.dryRun: must be a boolean/,
    );
    expect(() => resolveParams(pipeline, { model: 'a', options: [] })).toThrow(
      /params\.options: must be an object, got array/,
    );
    expect(() => resolveParams(pipeline, { model: 'a', views: {} })).toThrow(
      /params\.views: must be an array, got object/,
    );
    expect(fieldOf(() => resolveParams(pipeline, { model: null }))).toBe('params.model');
  });

  it('rejects a missing required parameter', () => {
    expect(() => resolveParams(pipeline, {})).toThrow(
      'params.model: is required (a string); pass params.model',
    );
    expect(() => resolveParams(pipeline, undefined)).toThrow(/params\.model: is required/);
  });

  it('rejects an unknown parameter listing the known ones', () => {
    expect(() => resolveParams(pipeline, { model: 'a', epoch: 3 })).toThrow(
      'params.epoch: is not a parameter of pipeline train; its parameters are: model, epochs, rate, dryRun, options, views',
    );
  });

  it('rejects params that are not an object', () => {
    expect(fieldOf(() => resolveParams(pipeline, [1]))).toBe('params');
    expect(fieldOf(() => resolveParams(pipeline, 'x'))).toBe('params');
  });
});
