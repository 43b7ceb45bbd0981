import { describe, expect, it } from 'vitest';
import { isMeridianError } from '../../core/errors.js';
import { MemoryEventStream } from '../../stores/stream/memory.js';
import type { StreamMessage } from '../../stores/stream/port.js';
import { eventsConsumerName, eventsTopic, publishEvents } from './stream-producer.js';

const event = (user: number, amount: number, country = 'US') => ({ user_id: user, amount, country, ts: 0 });
const decode = (m: StreamMessage) => JSON.parse(new TextDecoder().decode(m.data)) as { amount: number }[];

async function readAll(stream: MemoryEventStream, count: number): Promise<StreamMessage[]> {
  const consumer = await stream.consume(eventsTopic('activity'), { name: 'reader' });
  const it = consumer[Symbol.asyncIterator]();
  const out: StreamMessage[] = [];
  while (out.length < count) out.push((await it.next()).value as StreamMessage);
  await consumer.close();
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (err: unknown) => err,
  );
}

describe('publishEvents', () => {
  it('sends one message per entity key, keeping the order of each key', async () => {
    const stream = new MemoryEventStream();
    const acks = await publishEvents(stream, 'activity', [event(1, 1), event(2, 2), event(1, 3)], {
      joinKeys: ['user_id'],
    });
    expect(acks).toHaveLength(2);
    const [first, second] = await readAll(stream, 2);
    expect([first!.key, second!.key]).toEqual(['1', '2']);
    expect(decode(first!).map((e) => e.amount)).toEqual([1, 3]);
    await stream.close();
  });

  it('splits a key whose events exceed the message size limit into ordered messages', async () => {
    const stream = new MemoryEventStream();
    const events = Array.from({ length: 3 }, (_, i) => event(1, i, 'x'.repeat(400_000)));
    await publishEvents(stream, 'activity', events, { key: 'k', id: 'batch-1' });
    const messages = await readAll(stream, 2);
    expect(messages.map((m) => decode(m).map((e) => e.amount))).toEqual([[0, 1], [2]]);
    expect(messages.map((m) => m.id)).toEqual(['batch-1:0', 'batch-1:1']);
    await stream.close();
  });

  it('rejects an event without its join key, and a call with neither key nor joinKeys', async () => {
    const stream = new MemoryEventStream();
    const missing = await failure(
      publishEvents(stream, 'activity', [event(1, 1), { amount: 1 }], { joinKeys: ['user_id'] }),
    );
    expect(isMeridianError(missing, 'INVALID_ARGUMENT')).toBe(true);
    expect(missing).toMatchObject({ details: { field: 'events[1].user_id' } });
    const neither = await failure(publishEvents(stream, 'activity', [event(1, 1)], {}));
    expect(neither).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'options' } });
    await stream.close();
  });
});

describe('eventsConsumerName', () => {
  it('names the durable consumer after the source', () => {
    expect(eventsConsumerName('activity')).toBe('meridian-features-activity');
  });

  it('keeps long source names distinct within the 64-character limit', () => {
    const a = eventsConsumerName(`${'a'.repeat(60)}_one`);
    const b = eventsConsumerName(`${'a'.repeat(60)}_two`);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(b.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
  });
});
