import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import {
  checkEntityKeys,
  checkFeatures,
  checkTtl,
  checkView,
  decodeValue,
  encodeRows,
  encodeValue,
} from './codec.js';
import type { FeatureValue } from './port.js';

const roundTrip = (value: FeatureValue): FeatureValue => decodeValue(encodeValue(value, 'v'));

function invalid(fn: () => unknown): MeridianError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeridianError);
    expect((err as MeridianError).code).toBe('INVALID_ARGUMENT');
    return err as MeridianError;
  }
  throw new Error('expected INVALID_ARGUMENT, nothing was thrown');
}

describe('online value codec', () => {
  it('keeps int64 exact at and beyond 2^53 and at both ends of the range', () => {
    for (const v of [0n, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n, -1n]) {
      const back = roundTrip(v);
      expect(typeof back).toBe('bigint');
      expect(back).toBe(v);
    }
  });

  it('rejects bigints outside int64, naming the field', () => {
    expect(invalid(() => encodeValue(2n ** 63n, 'rows[0].values.n')).details.field).toBe('rows[0].values.n');
    expect(invalid(() => encodeValue(-(2n ** 63n) - 1n, 'x')).message).toContain('outside int64');
  });

  it('keeps float64 bit for bit, including -0, NaN and both infinities', () => {
    const floats = [
      0.1,
      -0,
      0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      5e-324,
      1.7976931348623157e308,
      3,
    ];
    for (const v of floats) {
      const back = roundTrip(v);
      expect(typeof back).toBe('number');
      expect(Object.is(back, v)).toBe(true);
    }
  });

  it('keeps an integral float a number, not a bigint', () => {
    expect(roundTrip(42)).toBe(42);
    expect(encodeValue(42, 'v')).not.toBe(encodeValue(42n, 'v'));
  });

  it('keeps any well-formed unicode string, including separators, NUL and the empty string', () => {
    for (const v of ['', 'héllo wörld', '日本語', '👩‍👩‍👧', 'a,b:c{d}%7D', '\u0000x', 'NaN', 'T', 'i12']) {
      expect(roundTrip(v)).toBe(v);
    }
  });

  it('rejects a string with a lone surrogate instead of corrupting it', () => {
    expect(invalid(() => encodeValue('a\ud800b', 'rows[2].values.s')).details.field).toBe('rows[2].values.s');
  });

  it('keeps booleans and null distinct from strings and numbers', () => {
    expect(roundTrip(true)).toBe(true);
    expect(roundTrip(false)).toBe(false);
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip('null')).toBe('null');
    expect(roundTrip('true')).toBe('true');
  });

  it('keeps lists of float64, empty lists and special values in lists', () => {
    expect(roundTrip([])).toEqual([]);
    expect(roundTrip([1.5])).toEqual([1.5]);
    const back = roundTrip([-0, Number.NaN, Number.POSITIVE_INFINITY, 0.1, 1e21]) as number[];
    expect(back).toHaveLength(5);
    expect(Object.is(back[0], -0)).toBe(true);
    expect(Number.isNaN(back[1])).toBe(true);
    expect(back.slice(2)).toEqual([Number.POSITIVE_INFINITY, 0.1, 1e21]);
  });

  it('rejects lists holding anything but numbers, naming the element', () => {
    const err = invalid(() => encodeValue([1, '2'] as unknown as number[], 'rows[0].values.l'));
    expect(err.details.field).toBe('rows[0].values.l[1]');
  });

  it('rejects objects, dates, undefined, functions and maps, naming the field and the supported types', () => {
    const bad: unknown[] = [{}, new Date(0), undefined, () => 1, new Map(), Symbol('s'), new Float64Array(2)];
    for (const value of bad) {
      const err = invalid(() => encodeValue(value as FeatureValue, 'rows[0].values.f'));
      expect(err.details.field).toBe('rows[0].values.f');
      expect(err.message).toContain('bigint (int64)');
    }
  });

  it('answers DATA_CORRUPT for text it did not produce', () => {
    for (const text of ['', 'x1', 'iabc']) {
      expect(() => decodeValue(text)).toThrow(expect.objectContaining({ code: 'DATA_CORRUPT' }));
    }
  });
});

describe('online argument checks', () => {
  it('rejects empty or non-string view names and names with NUL', () => {
    for (const view of ['', 3, undefined, 'a\u0000b']) {
      expect(invalid(() => checkView(view)).details.field).toBe('view');
    }
    expect(() => checkView('driver_stats:v2')).not.toThrow();
  });

  it('names the index of a bad entity key or feature name', () => {
    expect(invalid(() => checkEntityKeys(['a', ''])).details.field).toBe('entityKeys[1]');
    expect(invalid(() => checkEntityKeys('a')).details.field).toBe('entityKeys');
    expect(invalid(() => checkFeatures(['f', 2])).details.field).toBe('features[1]');
  });

  it('accepts no TTL or a positive integer TTL and rejects anything else', () => {
    expect(checkTtl(undefined)).toBe(0);
    expect(checkTtl({})).toBe(0);
    expect(checkTtl({ ttlMs: 250 })).toBe(250);
    for (const ttlMs of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
      expect(invalid(() => checkTtl({ ttlMs } as never)).details.field).toBe('options.ttlMs');
    }
  });

  it('encodes valid rows in order and rejects duplicates, bad event times and bad values by position', () => {
    const rows = [
      { entityKey: 'a', eventTime: 1, values: { x: 1n } },
      { entityKey: 'b', eventTime: 2, values: { y: 'z' } },
    ];
    expect(encodeRows(rows)).toEqual([
      { entityKey: 'a', eventTime: 1, fields: [['x', 'i1']] },
      { entityKey: 'b', eventTime: 2, fields: [['y', 'sz']] },
    ]);
    expect(invalid(() => encodeRows([rows[0], rows[0]])).details.field).toBe('rows[1].entityKey');
    expect(invalid(() => encodeRows([{ ...rows[0], eventTime: Number.NaN }])).details.field).toBe(
      'rows[0].eventTime',
    );
    expect(invalid(() => encodeRows([{ ...rows[0], values: [] }])).details.field).toBe('rows[0].values');
    expect(invalid(() => encodeRows([{ ...rows[0], values: { '': 1 } }])).details.field).toBe(
      'rows[0].values',
    );
    expect(invalid(() => encodeRows({})).details.field).toBe('rows');
  });
});
