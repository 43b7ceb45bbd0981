import { describe, expect, it } from 'vitest';
import { definitionsSchema } from '../features/definitions.js';
import { parseEvents } from '../features/ingest/events.js';
import { featureStoreClass } from './grpc-proto.js';
import {
  fieldsToJson,
  jsonToValue,
  msToTimestamp,
  timestampToMs,
  typedValue,
  valueToJson,
  type WireValue,
} from './grpc-values.js';

const push = featureStoreClass().service.PushEvents!;

/** A Value as the server sees it: serialized and decoded by the same proto-loader options. */
function overTheWire(fields: Record<string, WireValue>): Record<string, WireValue> {
  const bytes = push.requestSerialize({ source: 's', events: [{ fields }] });
  return (push.requestDeserialize(bytes) as { events: { fields: Record<string, WireValue> }[] }).events[0]!
    .fields;
}

const source = definitionsSchema.parse({
  sources: [
    {
      name: 's',
      kind: 'stream',
      timestampField: 'ts',
      schema: { id: 'int64', x: 'float64', s: 'string', b: 'bool', ts: 'timestamp', v: 'float64[]' },
    },
  ],
}).sources[0]!;
const parse = (event: unknown) =>
  parseEvents(source, [event], { now: Date.now(), maxFutureMs: 86_400_000 })[0]!;

describe('gRPC values', () => {
  it('keeps an int64 beyond 2^53 exact, as its decimal text', () => {
    const fields = overTheWire({ id: { int64_val: '9007199254740993' } });
    expect(valueToJson(fields.id)).toBe('9007199254740993');
    expect(valueToJson(overTheWire({ id: { int64_val: '-42' } }).id)).toBe(-42);
  });

  it('turns a Timestamp and epoch milliseconds into the same epoch milliseconds', () => {
    const ms = Date.parse('2024-05-01T12:00:00.123Z');
    const fields = overTheWire({
      a: { timestamp_val: msToTimestamp(ms) },
      b: { timestamp_ms_val: String(ms) },
    });
    expect(valueToJson(fields.a)).toBe(ms);
    expect(valueToJson(fields.b)).toBe(ms);
    expect(timestampToMs({ seconds: '1', nanos: 999_999 })).toBe(1000);
  });

  it('leaves an unset value missing and a null value null, so validation reports them as REST would', () => {
    const fields = overTheWire({ a: {}, b: { null_val: 'NULL' } });
    expect(valueToJson(fields.a)).toBeUndefined();
    expect(valueToJson(fields.b)).toBeNull();
  });

  it('gives an event inferred by the client the same id as the same event sent as JSON', () => {
    const json = { id: 7, x: 2.5, s: 'FR', b: true, ts: '2024-05-01T00:00:00Z', v: [1, 2.5] };
    const sent = Object.fromEntries(
      Object.entries({ ...json, ts: new Date(json.ts) }).map(([k, v]) => [k, jsonToValue(v)]),
    );
    const viaGrpc = parse(fieldsToJson(overTheWire(sent)));
    expect(viaGrpc.id).toBe(parse(json).id);
    expect(viaGrpc.values).toEqual(parse(json).values);
  });

  it('accepts a whole number sent as int64 for a float64 field, as REST accepts 3 for 3.0', () => {
    const json = { id: '1', x: 3, s: 'a', b: false, ts: 0, v: [] };
    const sent = Object.fromEntries(Object.entries(json).map(([k, v]) => [k, jsonToValue(v)]));
    expect(parse(fieldsToJson(overTheWire(sent))).values.x).toBe(3);
  });

  it('types an online answer value by its column type', () => {
    expect(typedValue('int64', 5)).toEqual({ int64_val: '5' });
    expect(typedValue('int64', '9007199254740993')).toEqual({ int64_val: '9007199254740993' });
    expect(typedValue('float64', 5)).toEqual({ double_val: 5 });
    expect(typedValue('timestamp', '1970-01-01T00:00:01.5Z')).toEqual({
      timestamp_val: { seconds: '1', nanos: 500_000_000 },
    });
    expect(typedValue('string', null)).toEqual({});
  });

  it('refuses to infer a value it cannot send', () => {
    expect(() => jsonToValue({ nested: true })).toThrow(/cannot send/);
  });
});
