import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import type { SourceDef } from '../definitions.js';
import { checkJoinKeys, coerceValue, eventId, parseEvents } from './events.js';

const source: SourceDef = {
  name: 'activity',
  kind: 'stream',
  timestampField: 'ts',
  schema: { user_id: 'int64', amount: 'float64', country: 'string', vip: 'bool', ts: 'timestamp' },
};
const withId: SourceDef = {
  ...source,
  name: 'orders',
  idField: 'order_id',
  schema: { ...source.schema, order_id: 'string' },
};
const NOW = Date.parse('2024-05-01T12:00:00Z');
const options = { now: NOW, maxFutureMs: 86_400_000 };
const good = { user_id: 1, amount: 2.5, country: 'US', vip: false, ts: '2024-05-01T10:00:00Z' };

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(MeridianError);
    expect((err as MeridianError).code).toBe('INVALID_ARGUMENT');
    expect((err as MeridianError).message).toContain(String((err as MeridianError).details.field));
    return (err as MeridianError).details.field;
  }
  throw new Error('expected the call to throw');
}

describe('parseEvents', () => {
  it('converts int64 to bigint and timestamps to epoch milliseconds', () => {
    const [event] = parseEvents(source, [{ ...good, user_id: '9007199254740993' }], options);
    expect(event!.values).toEqual({ ...good, user_id: 9007199254740993n, ts: Date.parse(good.ts) });
    expect(event!.eventTime).toBe(Date.parse(good.ts));
  });

  it('accepts epoch milliseconds and ISO times with an offset for the same instant', () => {
    const a = parseEvents(source, [{ ...good, ts: '2024-05-01T12:00:00+02:00' }], options)[0]!;
    const b = parseEvents(source, [{ ...good, ts: Date.parse('2024-05-01T10:00:00Z') }], options)[0]!;
    expect(a.eventTime).toBe(b.eventTime);
  });

  it('names the row and field of a value of the wrong type', () => {
    const events = [good, good, good, { ...good, amount: 'twelve' }];
    expect(fieldOf(() => parseEvents(source, events, options))).toBe('events[3].amount');
  });

  it('rejects a missing field, null, and an unknown extra field', () => {
    const { country: _, ...noCountry } = good;
    expect(fieldOf(() => parseEvents(source, [noCountry], options))).toBe('events[0].country');
    expect(fieldOf(() => parseEvents(source, [{ ...good, vip: null }], options))).toBe('events[0].vip');
    expect(fieldOf(() => parseEvents(source, [good, { ...good, extra: 1 }], options))).toBe(
      'events[1].extra',
    );
  });

  it('rejects a missing timestamp, a zoneless one and a far-future one', () => {
    const { ts: _, ...noTs } = good;
    expect(fieldOf(() => parseEvents(source, [noTs], options))).toBe('events[0].ts');
    expect(fieldOf(() => parseEvents(source, [{ ...good, ts: '2024-05-01T10:00:00' }], options))).toBe(
      'events[0].ts',
    );
    const future = new Date(NOW + 2 * 86_400_000).toISOString();
    expect(fieldOf(() => parseEvents(source, [{ ...good, ts: future }], options))).toBe('events[0].ts');
    const nearFuture = new Date(NOW + 3_600_000).toISOString();
    expect(parseEvents(source, [{ ...good, ts: nearFuture }], options)).toHaveLength(1);
  });

  it('rejects unsafe JSON integers and out-of-range decimal strings for int64', () => {
    expect(fieldOf(() => parseEvents(source, [{ ...good, user_id: 2 ** 53 }], options))).toBe(
      'events[0].user_id',
    );
    expect(fieldOf(() => parseEvents(source, [{ ...good, user_id: '9223372036854775808' }], options))).toBe(
      'events[0].user_id',
    );
    expect(fieldOf(() => parseEvents(source, [{ ...good, user_id: 1.5 }], options))).toBe(
      'events[0].user_id',
    );
  });

  it('rejects an events value that is not an array and an event that is not an object', () => {
    expect(fieldOf(() => parseEvents(source, { a: 1 }, options))).toBe('events');
    expect(fieldOf(() => parseEvents(source, [good, [1]], options))).toBe('events[1]');
  });
});

describe('checkJoinKeys', () => {
  it('names the row and key of an empty string join key', () => {
    const events = parseEvents(source, [good, { ...good, country: '' }], options);
    expect(() => checkJoinKeys(events, ['user_id'])).not.toThrow();
    expect(fieldOf(() => checkJoinKeys(events, ['user_id', 'country']))).toBe('events[1].country');
  });
});

describe('event ids', () => {
  it('hashes the converted event, so formatting differences of one event give one id', () => {
    const a = parseEvents(source, [good], options)[0]!;
    const b = parseEvents(
      source,
      [{ ts: Date.parse(good.ts), vip: false, country: 'US', amount: 2.5, user_id: '1' }],
      options,
    )[0]!;
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    expect(b.id).toBe(a.id);
  });

  it('gives a correction (same entity and time, other values) another id', () => {
    const [a, b] = parseEvents(source, [good, { ...good, amount: 3 }], options);
    expect(a!.id).not.toBe(b!.id);
  });

  it('hashes every field type exactly as eventId does for the converted values', () => {
    const wide: SourceDef = {
      name: 'wide',
      kind: 'stream',
      timestampField: 'ts',
      schema: {
        zeta: 'string',
        big: 'int64',
        small: 'int32',
        x: 'float64',
        y: 'float32',
        on: 'bool',
        v: 'float64[]',
        ts: 'timestamp',
        Ä: 'string',
      },
    };
    const events = [
      {
        zeta: 'quote " back \\ \n é 😀',
        big: '-9223372036854775808',
        small: -7,
        x: -0.1,
        y: 1e21,
        on: true,
        v: [1.5, -2, 0],
        ts: '2024-05-01T10:00:00.123+02:00',
        Ä: '',
      },
      { zeta: '', big: 9007199254740991, small: 0, x: 5e-324, y: -0, on: false, v: [], ts: 0, Ä: 'x' },
    ];
    for (const event of parseEvents(wide, events, options)) {
      expect(event.id).toBe(eventId(wide, event.values));
    }
  });

  it('checks events against the schema of the definition given, also after a source is re-applied', () => {
    const reapplied: SourceDef = { ...source, schema: { ...source.schema, device: 'string' } };
    expect(parseEvents(reapplied, [{ ...good, device: 'ios' }], options)[0]!.values.device).toBe('ios');
    expect(fieldOf(() => parseEvents(source, [{ ...good, device: 'ios' }], options))).toBe(
      'events[0].device',
    );
    expect(fieldOf(() => parseEvents(reapplied, [good], options))).toBe('events[0].device');
  });

  it('uses the idField value when the source declares one', () => {
    const [event] = parseEvents(withId, [{ ...good, order_id: 'o-17' }], options);
    expect(event!.id).toBe('o-17');
    expect(eventId(withId, { ...event!.values, amount: 99 })).toBe('o-17');
  });
});

describe('coerceValue', () => {
  it('treats "1" and 1 as the same int64', () => {
    expect(coerceValue('int64', '1', 'k')).toBe(1n);
    expect(coerceValue('int64', 1, 'k')).toBe(1n);
  });

  it('checks int32 range, float arrays and booleans', () => {
    expect(() => coerceValue('int32', 2 ** 31, 'k')).toThrow(/k: 2147483648 is not int32/);
    expect(coerceValue('float64[]', [1, 2.5], 'v')).toEqual([1, 2.5]);
    expect(() => coerceValue('float64[]', [1, 'x'], 'v')).toThrow(/v: an array is not float64\[\]/);
    expect(() => coerceValue('bool', 'true', 'b')).toThrow(/b: "true" is not bool/);
  });
});
