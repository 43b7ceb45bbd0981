import { describe, expect, it } from 'vitest';
import { MemoryEventStream } from './memory.js';

const message = (n: number) => ({ key: 'k', data: new Uint8Array(100).fill(n) });

async function first(stream: MemoryEventStream, topic: string, name: string) {
  const consumer = await stream.consume(topic, { name });
  const result = await consumer[Symbol.asyncIterator]().next();
  await consumer.close();
  return result.value;
}

describe('MemoryEventStream', () => {
  it('drops the oldest messages of a topic past its byte budget and consumers start at the oldest kept', async () => {
    const stream = new MemoryEventStream({ maxTopicBytes: 1000 });
    await stream.ensureTopic('t');
    const acks = await stream.publish(
      't',
      Array.from({ length: 20 }, (_, i) => message(i)),
    );
    expect(acks.at(-1)!.seq).toBe(20);
    const oldest = await first(stream, 't', 'late');
    expect(oldest!.seq).toBeGreaterThan(10);
    expect(oldest!.data[0]).toBe(oldest!.seq - 1);
    await stream.close();
  });

  it('keeps durable positions per instance: a new instance starts from scratch', async () => {
    const a = new MemoryEventStream();
    await a.ensureTopic('t');
    await a.publish('t', [message(1)]);
    const b = new MemoryEventStream();
    await expect(b.publish('t', [message(1)])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await Promise.all([a.close(), b.close()]);
  });

  it('ends the iteration of open consumers when the stream closes', async () => {
    const stream = new MemoryEventStream();
    await stream.ensureTopic('t');
    const consumer = await stream.consume('t', { name: 'c' });
    const waiting = consumer[Symbol.asyncIterator]().next();
    await stream.close();
    expect((await waiting).done).toBe(true);
  });

  it('gives the sender no way to change a stored message by reusing its buffer', async () => {
    const stream = new MemoryEventStream();
    await stream.ensureTopic('t');
    const data = new Uint8Array([1, 2, 3]);
    await stream.publish('t', [{ key: 'k', data }]);
    data[0] = 9;
    expect(Array.from((await first(stream, 't', 'c'))!.data)).toEqual([1, 2, 3]);
    await stream.close();
  });
});
