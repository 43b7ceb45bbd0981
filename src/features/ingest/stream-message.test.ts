import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { decodeEvents, isPoison, poisonReason, retryDelay } from './stream-message.js';

const encode = (text: string) => new TextEncoder().encode(text);

describe('decodeEvents', () => {
  it('reads one event object as a list of one event', () => {
    expect(decodeEvents(encode('{"user_id":1}'))).toEqual([{ user_id: 1 }]);
  });

  it('reads a JSON array as the list of its events, in order', () => {
    expect(decodeEvents(encode('[{"a":1},{"a":2}]'))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it.each(['not json', '42', 'null', '"text"'])(
    'rejects %j with INVALID_ARGUMENT naming the message',
    (body) => {
      let caught: unknown;
      try {
        decodeEvents(encode(body));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MeridianError);
      expect((caught as MeridianError).code).toBe('INVALID_ARGUMENT');
      expect((caught as MeridianError).details.field).toBe('message');
    },
  );

  it('rejects bytes that are not UTF-8', () => {
    expect(() => decodeEvents(Uint8Array.of(0xff, 0xfe))).toThrow(/not UTF-8 JSON/);
  });
});

describe('isPoison', () => {
  it('treats bad input and an unknown source as the message fault', () => {
    expect(isPoison(new MeridianError('INVALID_ARGUMENT', 'x'))).toBe(true);
    expect(isPoison(new MeridianError('NOT_FOUND', 'x'))).toBe(true);
  });

  it('treats unavailable stores, full queues and unknown errors as passing', () => {
    for (const code of ['UNAVAILABLE', 'STORE_UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'INTERNAL'] as const) {
      expect(isPoison(new MeridianError(code, 'x'))).toBe(false);
    }
    expect(isPoison(new Error('disk full'))).toBe(false);
  });
});

describe('poisonReason', () => {
  it('names the code and the message', () => {
    expect(poisonReason(new MeridianError('NOT_FOUND', 'source "x" does not exist'))).toBe(
      'NOT_FOUND: source "x" does not exist',
    );
  });
});

describe('retryDelay', () => {
  const policy = { baseMs: 100, maxMs: 5000 };

  it('doubles with each delivery and stops at the cap', () => {
    const top = () => 1;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, policy, top))).toEqual([100, 200, 400, 800]);
    expect(retryDelay(20, policy, top)).toBe(5000);
    expect(retryDelay(1000, policy, top)).toBe(5000);
  });

  it('takes off at most 20% as jitter', () => {
    expect(retryDelay(1, policy, () => 0)).toBe(80);
  });
});
