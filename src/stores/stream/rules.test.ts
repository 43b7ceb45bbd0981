import { describe, expect, it } from 'vitest';
import { isMeridianError } from '../../core/errors.js';
import {
  DLQ_HEADERS,
  deadLetterMessage,
  exhausted,
  PARTITIONS,
  partitionOf,
  resolveConsumerOptions,
  validateTopic,
} from './rules.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (isMeridianError(err, 'INVALID_ARGUMENT')) return err.details.field;
    throw err;
  }
  return undefined;
};

describe('stream rules', () => {
  it('maps a key to the same partition every time, spread over all partitions', () => {
    expect(partitionOf('user-42')).toBe(partitionOf('user-42'));
    const used = new Set(Array.from({ length: 1000 }, (_, i) => partitionOf(`entity-${i}`)));
    expect(used.size).toBe(PARTITIONS);
    for (const p of used) expect(p).toBeGreaterThanOrEqual(0);
  });

  it('pins the FNV-1a hash so publishers of different versions agree on partitions', () => {
    expect(partitionOf('a', 2 ** 32)).toBe(0xe40c292c);
    expect(partitionOf('', 2 ** 32)).toBe(0x811c9dc5);
  });

  it('accepts dot-separated topic segments and rejects anything NATS subjects or stream names cannot hold', () => {
    for (const ok of ['events', 'raw-events', 'predictions.v2', 'a_b.c-d.dlq'])
      expect(validateTopic(ok)).toBe(ok);
    for (const bad of ['', 'a b', 'a..b', 'a.', '*', 'a.>', 'a~b', 'ü']) {
      expect(fieldOf(() => validateTopic(bad))).toBe('topic');
    }
  });

  it('fills consumer defaults and names the option that is out of range', () => {
    expect(resolveConsumerOptions({ name: 'c' })).toEqual({
      name: 'c',
      maxDeliver: 5,
      ackWaitMs: 30_000,
      maxInFlight: 256,
    });
    expect(fieldOf(() => resolveConsumerOptions(null))).toBe('options');
    expect(fieldOf(() => resolveConsumerOptions({ name: 'c', maxDeliver: 1.5 }))).toBe('options.maxDeliver');
    expect(fieldOf(() => resolveConsumerOptions({ name: 'c', ackWaitMs: 50 }))).toBe('options.ackWaitMs');
  });

  it('dead-letters only after the last allowed delivery', () => {
    expect(exhausted(2, 3)).toBe(false);
    expect(exhausted(3, 3)).toBe(true);
    expect(exhausted(1, 1)).toBe(true);
  });

  it('gives a dead-letter message an id per consumer and source seq so a retried move is stored once', () => {
    const source = {
      topic: 't',
      consumer: 'c',
      key: 'k',
      data: new Uint8Array([1]),
      headers: { a: 'b' },
      seq: 7,
      deliveries: 3,
      reason: 'why',
    };
    const message = deadLetterMessage(source);
    expect(message.id).toBe(deadLetterMessage(source).id);
    expect(message.id).not.toBe(deadLetterMessage({ ...source, consumer: 'other' }).id);
    expect(message.headers).toEqual({
      a: 'b',
      [DLQ_HEADERS.topic]: 't',
      [DLQ_HEADERS.seq]: '7',
      [DLQ_HEADERS.deliveries]: '3',
      [DLQ_HEADERS.reason]: 'why',
      [DLQ_HEADERS.consumer]: 'c',
    });
  });
});
