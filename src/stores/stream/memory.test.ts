import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isMeridianError } from '../../core/errors.js';
import { MemoryEventStream } from './memory.js';
import type { Consumer, StreamMessage } from './port.js';

/** 101 bytes against the budget: 100 of data and a one-character key. */
const message = (n: number) => ({ key: 'k', data: new Uint8Array(100).fill(n) });
const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => message(from + i));

async function takeEach(consumer: Consumer, count: number): Promise<StreamMessage[]> {
  const it = consumer[Symbol.asyncIterator]();
  const out: StreamMessage[] = [];
  while (out.length < count) out.push((await it.next()).value as StreamMessage);
  return out;
}

/** A full garbage collection: global.gc under --expose-gc, else exposed through V8's flags. */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
const gc = collector();

/** Heap in use, after a full collection where one can be forced. */
function heapUsed(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function first(stream: MemoryEventStream, topic: string, name: string) {
  const consumer = await stream.consume(topic, { name });
  const result = await consumer[Symbol.asyncIterator]().next();
  await consumer.close();
  return result.value;
}

describe('MemoryEventStream', () => {
  it('drops the oldest messages of a topic without durable consumers past its byte budget; consumers start at the oldest kept', async () => {
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

  it('refuses a publish past the byte budget with RESOURCE_EXHAUSTED instead of dropping unacked messages', async () => {
    const stream = new MemoryEventStream({ maxTopicBytes: 1000 });
    await stream.ensureTopic('t');
    const consumer = await stream.consume('t', { name: 'slow' });
    await stream.publish('t', batch(0, 9));
    const err = await stream.publish('t', batch(9, 2)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMeridianError(err, 'RESOURCE_EXHAUSTED')).toBe(true);
    expect((err as Error).message).toMatch(/in-process event stream is full/);
    expect((err as Error).message).toContain('1000 bytes');
    expect(err).toMatchObject({
      details: { limitBytes: 1000, hint: expect.stringMatching(/consume.*faster.*NATS/) },
    });

    const received = await takeEach(consumer, 9);
    expect(received.map((m) => m.data[0])).toEqual(Array.from({ length: 9 }, (_, i) => i));
    await stream.close();
  });

  it('makes room by dropping only messages every durable consumer has acked', async () => {
    const stream = new MemoryEventStream({ maxTopicBytes: 1000 });
    await stream.ensureTopic('t');
    const fast = await stream.consume('t', { name: 'fast' });
    const slow = await stream.consume('t', { name: 'slow', ackWaitMs: 200 });
    await stream.publish('t', batch(0, 9));
    for (const m of await takeEach(fast, 9)) await m.ack();
    await expect(stream.publish('t', [message(9)])).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });

    const fromSlow = await takeEach(slow, 3);
    await fromSlow[0]!.ack();
    await fromSlow[2]!.ack();
    await stream.publish('t', [message(9)]);
    await expect(stream.publish('t', [message(10)])).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });

    await slow.close();
    const again = await takeEach(await stream.consume('t', { name: 'slow', ackWaitMs: 200 }), 8);
    expect(again.map((m) => m.data[0] ?? -1).sort((x, y) => x - y)).toEqual([1, 3, 4, 5, 6, 7, 8, 9]);
    await stream.close();
  });

  it('drops even the only kept message once every durable consumer has acked it', async () => {
    const stream = new MemoryEventStream({ maxTopicBytes: 1000 });
    await stream.ensureTopic('t');
    const consumer = await stream.consume('t', { name: 'c' });
    await stream.publish('t', [{ key: 'k', data: new Uint8Array(600) }]);
    await (await takeEach(consumer, 1))[0]!.ack();
    const [ack] = await stream.publish('t', [{ key: 'k', data: new Uint8Array(600) }]);
    expect(ack!.seq).toBe(2);
    await stream.close();
  });

  it('keeps a message pending instead of losing it while its dead-letter topic is full', async () => {
    const stream = new MemoryEventStream({ maxTopicBytes: 1000 });
    await stream.ensureTopic('t');
    const picky = (await stream.consume('t', { name: 'picky', maxDeliver: 1, ackWaitMs: 200 }))[
      Symbol.asyncIterator
    ]();
    const dlq = await stream.consume('dlq.t', { name: 'dlq-reader' });
    await stream.publish('t', batch(0, 9));
    for (let i = 0; i < 9; i++) await ((await picky.next()).value as StreamMessage).nak();
    await stream.publish('t', [message(9)]);
    const last = (await picky.next()).value as StreamMessage;
    await last.nak();

    const dead = await takeEach(dlq, 9);
    expect(dead.map((m) => m.data[0])).toEqual(Array.from({ length: 9 }, (_, i) => i));
    await dead[0]!.ack();
    const later = picky.next();
    const [moved] = await takeEach(dlq, 1);
    expect(moved!.data[0]).toBe(9);
    expect(moved!.headers['Meridian-Dlq-Seq']).toBe(String(last.seq));
    await stream.close();
    expect((await later).done).toBe(true);
  });

  it('keeps the heap flat while a consumer waits idle before each of 100k messages', async () => {
    const stream = new MemoryEventStream({ maxTopicBytes: 64 * 1024 });
    await stream.ensureTopic('t');
    const it = (await stream.consume('t', { name: 'idle' }))[Symbol.asyncIterator]();
    const data = new Uint8Array(16);
    const round = async () => {
      const next = it.next();
      await stream.publish('t', [{ key: 'k', data }]);
      await ((await next).value as StreamMessage).ack();
    };
    for (let i = 0; i < 5000; i++) await round();
    const before = heapUsed();
    for (let i = 0; i < 100_000; i++) await round();
    const growthMiB = (heapUsed() - before) / 2 ** 20;
    // One leaked reaction per idle wait grew it by ~30 MiB (~42 MiB without a forced collection).
    expect(growthMiB).toBeLessThan(gc ? 8 : 24);
    await stream.close();
  }, 60_000);
});
