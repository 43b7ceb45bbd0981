/**
 * The event stream conformance suite: the same behaviour from the embedded and the NATS stream.
 * Every test uses its own topic, so implementations backed by one server can share it.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.js';
import { isMeridianError } from '../../src/core/errors.js';
import {
  type Consumer,
  deadLetterTopic,
  type EventStream,
  type OutgoingMessage,
  type StreamMessage,
} from '../../src/stores/stream/port.js';

export interface StreamFixture {
  stream: EventStream;
  teardown(): Promise<void>;
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
export const uniqueTopic = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Reads a consumer one message at a time with deadlines; a read that timed out is picked up by the next one. */
export function reader(consumer: Consumer) {
  const it = consumer[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<StreamMessage>> | null = null;
  const poll = async (timeoutMs: number): Promise<StreamMessage | null> => {
    pending ??= it.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([pending, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') return null;
    pending = null;
    if (result.done) throw new Error('the consumer ended');
    return result.value;
  };
  const next = async (timeoutMs = 5000): Promise<StreamMessage> => {
    const message = await poll(timeoutMs);
    if (!message) throw new Error(`no message within ${timeoutMs} ms`);
    return message;
  };
  const take = async (count: number, timeoutMs = 5000, ack = true): Promise<StreamMessage[]> => {
    const out: StreamMessage[] = [];
    while (out.length < count) {
      const message = await next(timeoutMs);
      if (ack) await message.ack();
      out.push(message);
    }
    return out;
  };
  /** Resolves with what the iterator ends with: done, or a message. */
  const end = async (): Promise<IteratorResult<StreamMessage>> => {
    const result = await (pending ?? it.next());
    pending = null;
    return result;
  };
  return { poll, next, take, end };
}

/** Expects the promise to reject with INVALID_ARGUMENT naming `field`. */
export async function expectInvalid(promise: Promise<unknown>, field: string): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(
    isMeridianError(err, 'INVALID_ARGUMENT'),
    `expected INVALID_ARGUMENT for ${field}, got ${String(err)}`,
  ).toBe(true);
  expect(err).toMatchObject({ details: { field } });
  expect((err as Error).message).toContain(field);
}

const keyed = (key: string, body: string, extra: Record<string, unknown> = {}) => ({
  key,
  data: bytes(body),
  ...extra,
});

/** Runs the conformance suite against the event stream `setup` creates for each test. */
export function eventStreamConformance(name: string, setup: () => Promise<StreamFixture>): void {
  describe(`event stream conformance: ${name}`, () => {
    let fixture: StreamFixture;
    let stream: EventStream;
    let topic: string;

    beforeEach(async () => {
      fixture = await setup();
      stream = fixture.stream;
      topic = uniqueTopic('conf');
      await stream.ensureTopic(topic);
    });

    afterEach(async () => {
      await fixture.teardown();
    });

    it('publishes with increasing seqs and delivers key, data, id and headers byte for byte', async () => {
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const sent: OutgoingMessage[] = [
        {
          key: 'user 42/ü',
          data: everyByte,
          id: 'evt-1',
          headers: { 'Content-Type': 'application/x-raw', 'x-trace': 'a:b c' },
        },
        { key: 'k', data: new Uint8Array(0) },
        { key: 'k', data: bytes('héllo 👋'), headers: { attempt: '' } },
      ];
      const acks = await stream.publish(topic, sent);
      expect(acks.map((a) => a.duplicate)).toEqual([false, false, false]);
      expect(acks[0]!.seq).toBe(1);
      expect(acks[1]!.seq).toBeGreaterThan(acks[0]!.seq);
      expect(acks[2]!.seq).toBeGreaterThan(acks[1]!.seq);

      const received = await reader(await stream.consume(topic, { name: 'reader' })).take(3);
      expect(received.map((m) => m.seq)).toEqual(acks.map((a) => a.seq));
      received.forEach((m, i) => {
        expect(m.topic).toBe(topic);
        expect(m.key).toBe(sent[i]!.key);
        expect(m.data).toBeInstanceOf(Uint8Array);
        expect(Array.from(m.data)).toEqual(Array.from(sent[i]!.data));
        expect(m.id).toBe(sent[i]!.id ?? null);
        expect(m.headers).toEqual(sent[i]!.headers ?? {});
        expect(m.deliveryCount).toBe(1);
      });
    });

    it('stores a message published twice with the same id once and answers duplicate: true', async () => {
      const first = await stream.publish(topic, [
        keyed('a', 'original', { id: 'evt-1' }),
        keyed('b', 'two', { id: 'evt-2' }),
      ]);
      const second = await stream.publish(topic, [keyed('a', 'retry', { id: 'evt-1' }), keyed('c', 'three')]);
      expect(second[0]).toEqual({ seq: first[0]!.seq, duplicate: true });
      expect(second[1]!.duplicate).toBe(false);

      const r = reader(await stream.consume(topic, { name: 'dedup' }));
      const received = await r.take(3);
      expect(received.map((m) => text(m.data))).toEqual(['original', 'two', 'three']);
      expect(await r.poll(300)).toBeNull();
    });

    it('resumes a durable consumer right after its last ack when reopened with the same name', async () => {
      const acks = await stream.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => keyed(`k${i % 3}`, `m${i}`)),
      );
      const first = await stream.consume(topic, { name: 'resumer' });
      const before = await reader(first).take(4);
      await first.close();
      expect(before.map((m) => m.seq)).toEqual(acks.slice(0, 4).map((a) => a.seq));

      const r = reader(await stream.consume(topic, { name: 'resumer' }));
      const after = await r.take(6);
      expect(after.map((m) => m.seq)).toEqual(acks.slice(4).map((a) => a.seq));
      expect(await r.poll(300)).toBeNull();
    });

    it('redelivers a message that is not acked within ackWait with deliveryCount 2', async () => {
      const [ack] = await stream.publish(topic, [keyed('k', 'slow')]);
      const r = reader(await stream.consume(topic, { name: 'slow', ackWaitMs: 500 }));
      const first = await r.next();
      const deliveredAt = Date.now();
      expect(first.deliveryCount).toBe(1);

      const again = await r.next(5000);
      expect(Date.now() - deliveredAt).toBeGreaterThanOrEqual(400);
      expect(again.seq).toBe(ack!.seq);
      expect(again.deliveryCount).toBe(2);
      expect(text(again.data)).toBe('slow');
      await again.ack();
      expect(await r.poll(900)).toBeNull();
    });

    it('redelivers a nak-ed message after the requested delay', async () => {
      await stream.publish(topic, [keyed('k', 'retry-me')]);
      const r = reader(await stream.consume(topic, { name: 'naker', ackWaitMs: 10_000 }));
      const first = await r.next();
      const nakedAt = Date.now();
      await first.nak(400);
      const again = await r.next(5000);
      expect(Date.now() - nakedAt).toBeGreaterThanOrEqual(300);
      expect(again.seq).toBe(first.seq);
      expect(again.deliveryCount).toBe(2);
      await again.ack();
    });

    it('delivers the messages of each key in publish order across hundreds of interleaved messages', async () => {
      const keys = Array.from({ length: 12 }, (_, i) => `entity-${i}`);
      const counters = new Map(keys.map((k) => [k, 0]));
      let seed = 42;
      const messages = Array.from({ length: 480 }, () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const key = keys[(seed >>> 16) % keys.length]!;
        const n = counters.get(key)!;
        counters.set(key, n + 1);
        return keyed(key, JSON.stringify({ key, n }));
      });
      for (let i = 0; i < messages.length; i += 60) await stream.publish(topic, messages.slice(i, i + 60));

      const received = await reader(await stream.consume(topic, { name: 'ordered' })).take(
        messages.length,
        10_000,
      );
      const seen = new Map<string, number[]>();
      for (const m of received) {
        const body = JSON.parse(text(m.data)) as { key: string; n: number };
        expect(m.key).toBe(body.key);
        seen.set(m.key, [...(seen.get(m.key) ?? []), body.n]);
      }
      for (const key of keys) {
        expect(counters.get(key)).toBeGreaterThan(10);
        const expected = Array.from({ length: counters.get(key)! }, (_, n) => n);
        expect(seen.get(key)).toEqual(expected);
      }
    });

    it('moves an always-nak-ed message to the dead-letter topic after maxDeliver attempts while its key keeps flowing', async () => {
      const sent = Array.from({ length: 10 }, (_, i) =>
        i === 3 ? keyed('k', 'poison', { headers: { kind: 'poison' } }) : keyed('k', `good-${i}`),
      );
      const acks = await stream.publish(topic, sent);
      const poisonSeq = acks[3]!.seq;
      const r = reader(await stream.consume(topic, { name: 'picky', maxDeliver: 3, ackWaitMs: 2000 }));

      const good: string[] = [];
      const poisonDeliveries: number[] = [];
      while (good.length < 9 || poisonDeliveries.length < 3) {
        const m = await r.next(5000);
        if (text(m.data) === 'poison') {
          poisonDeliveries.push(m.deliveryCount);
          await m.nak();
        } else {
          good.push(text(m.data));
          await m.ack();
        }
      }
      expect(good).toEqual(sent.filter((_, i) => i !== 3).map((m) => text(m.data)));
      expect(poisonDeliveries).toEqual([1, 2, 3]);

      const dead = await reader(await stream.consume(deadLetterTopic(topic), { name: 'dlq-reader' })).next(
        5000,
      );
      expect(text(dead.data)).toBe('poison');
      expect(dead.key).toBe('k');
      expect(dead.headers).toMatchObject({
        kind: 'poison',
        'Meridian-Dlq-Topic': topic,
        'Meridian-Dlq-Seq': String(poisonSeq),
        'Meridian-Dlq-Deliveries': '3',
        'Meridian-Dlq-Consumer': 'picky',
      });
      expect(dead.headers['Meridian-Dlq-Reason']).toMatch(/nak/);
      expect(await r.poll(2500)).toBeNull();
    });

    it('moves a message that is never acked to the dead-letter topic after maxDeliver deliveries', async () => {
      const [ack] = await stream.publish(topic, [keyed('k', 'ignored')]);
      const r = reader(await stream.consume(topic, { name: 'forgetful', maxDeliver: 2, ackWaitMs: 300 }));
      expect((await r.next()).deliveryCount).toBe(1);
      expect((await r.next()).deliveryCount).toBe(2);

      const dead = await reader(await stream.consume(deadLetterTopic(topic), { name: 'dlq-reader' })).next(
        5000,
      );
      expect(text(dead.data)).toBe('ignored');
      expect(dead.headers['Meridian-Dlq-Seq']).toBe(String(ack!.seq));
      expect(dead.headers['Meridian-Dlq-Deliveries']).toBe('2');
      expect(dead.headers['Meridian-Dlq-Reason']).toMatch(/not acked within 300 ms/);
      expect(await r.poll(800)).toBeNull();
    });

    it("dead-letters a message at once with the caller's reason, keeping its key flowing", async () => {
      const acks = await stream.publish(topic, [
        keyed('k', 'bad', { headers: { kind: 'poison' } }),
        keyed('k', 'good'),
      ]);
      const r = reader(await stream.consume(topic, { name: 'strict', maxDeliver: 5, ackWaitMs: 1000 }));
      const bad = await r.next();
      await expectInvalid(bad.deadLetter('  \n '), 'reason');
      await bad.deadLetter('INVALID_ARGUMENT: events[0].ts:\n  the event timestamp is missing');
      const good = await r.next();
      expect(text(good.data)).toBe('good');
      await good.ack();

      const dead = await reader(await stream.consume(deadLetterTopic(topic), { name: 'dlq-reader' })).next();
      expect(text(dead.data)).toBe('bad');
      expect(dead.key).toBe('k');
      expect(dead.headers).toMatchObject({
        kind: 'poison',
        'Meridian-Dlq-Seq': String(acks[0]!.seq),
        'Meridian-Dlq-Deliveries': '1',
        'Meridian-Dlq-Consumer': 'strict',
        'Meridian-Dlq-Reason': 'INVALID_ARGUMENT: events[0].ts: the event timestamp is missing',
      });
      expect(await r.poll(1500)).toBeNull();
    });

    it('shares the messages of one consumer among several concurrent iterators, each once', async () => {
      await stream.publish(
        topic,
        Array.from({ length: 60 }, (_, i) => keyed(`k${i % 5}`, `m${i}`)),
      );
      const consumer = await stream.consume(topic, { name: 'lanes' });
      const seen: string[] = [];
      const lanes = Array.from({ length: 4 }, () => reader(consumer));
      await Promise.all(
        lanes.map(async (lane) => {
          while (seen.length < 60) {
            const m = await lane.poll(1000);
            if (!m) continue;
            seen.push(text(m.data));
            await m.ack();
          }
        }),
      );
      expect(seen.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`).sort());
      await consumer.close();
    });

    it('gives every message to each of two consumers with different names', async () => {
      await stream.publish(
        topic,
        Array.from({ length: 20 }, (_, i) => keyed(`k${i % 4}`, `m${i}`)),
      );
      const a = reader(await stream.consume(topic, { name: 'alpha' }));
      const b = reader(await stream.consume(topic, { name: 'beta' }));
      const [fromA, fromB] = await Promise.all([a.take(20), b.take(20)]);
      const bodies = Array.from({ length: 20 }, (_, i) => `m${i}`);
      expect(fromA.map((m) => text(m.data))).toEqual(bodies);
      expect(fromB.map((m) => text(m.data))).toEqual(bodies);
    });

    it('hands out at most maxInFlight unacked messages until one is acked', async () => {
      await stream.publish(
        topic,
        Array.from({ length: 6 }, (_, i) => keyed(`k${i}`, `m${i}`)),
      );
      const r = reader(await stream.consume(topic, { name: 'bounded', maxInFlight: 3, ackWaitMs: 20_000 }));
      const held = await r.take(3, 5000, false);
      expect(held.map((m) => text(m.data))).toEqual(['m0', 'm1', 'm2']);
      expect(await r.poll(500)).toBeNull();
      await held[0]!.ack();
      const fourth = await r.next(5000);
      expect(text(fourth.data)).toBe('m3');
      expect(fourth.deliveryCount).toBe(1);
    });

    it('applies changed maxInFlight and ackWait when a consumer name is opened again', async () => {
      await stream.publish(
        topic,
        Array.from({ length: 4 }, (_, i) => keyed(`k${i}`, `m${i}`)),
      );
      const narrow = await stream.consume(topic, { name: 'reshaped', maxInFlight: 1, ackWaitMs: 20_000 });
      const r1 = reader(narrow);
      const [first] = await r1.take(1, 5000, false);
      expect(await r1.poll(300)).toBeNull();
      await first!.ack();
      await (await r1.next()).ack();
      await narrow.close();

      const wide = reader(await stream.consume(topic, { name: 'reshaped', maxInFlight: 2, ackWaitMs: 1000 }));
      const held = await wide.take(2, 5000, false);
      expect(await wide.poll(300)).toBeNull();
      const again = await wide.next(5000);
      const before = held.find((m) => m.seq === again.seq);
      expect(before).toBeDefined();
      expect(again.deliveryCount).toBe(before!.deliveryCount + 1);
    });

    it('ends iteration on close and redelivers what it held unacked to the next consumer of that name', async () => {
      const acks = await stream.publish(topic, [keyed('k', 'held'), keyed('k', 'next')]);
      const consumer = await stream.consume(topic, { name: 'closer', ackWaitMs: 500 });
      const r = reader(consumer);
      const held = await r.next();
      expect(text(held.data)).toBe('held');
      await consumer.close();
      expect((await r.end()).done).toBe(true);

      const again = reader(await stream.consume(topic, { name: 'closer', ackWaitMs: 500 }));
      const received = await again.take(2, 5000);
      expect(received.map((m) => m.seq).sort((x, y) => x - y)).toEqual(acks.map((a) => a.seq));
      const redelivered = received.find((m) => m.seq === acks[0]!.seq)!;
      expect(redelivered.deliveryCount).toBeGreaterThanOrEqual(2);
    });

    it('dead-letters no message its callers saw fewer than maxDeliver times and loses none, with a slow handler and a close mid-stream', async () => {
      const acks = await stream.publish(
        topic,
        Array.from({ length: 24 }, (_, i) => keyed(`k${i % 3}`, `m${i}`)),
      );
      const options = { name: 'unhurried', ackWaitMs: 500, maxDeliver: 2 };
      const seen = new Map<number, number>();
      const acked = new Set<number>();
      const handle = async (m: StreamMessage) => {
        seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
        expect(m.deliveryCount).toBe(seen.get(m.seq));
        await sleep(80);
        await m.ack();
        acked.add(m.seq);
      };
      const first = await stream.consume(topic, options);
      const r1 = reader(first);
      for (let i = 0; i < 10; i++) await handle(await r1.next());
      await first.close();

      const r2 = reader(await stream.consume(topic, options));
      while (acked.size < acks.length) {
        const m = await r2.poll(2000);
        if (!m) break;
        await handle(m);
      }
      const dlq = reader(await stream.consume(deadLetterTopic(topic), { name: 'dlq-check' }));
      const dead: number[] = [];
      for (let m = await dlq.poll(1000); m; m = await dlq.poll(1000)) {
        dead.push(Number(m.headers['Meridian-Dlq-Seq']));
        await m.ack();
      }
      for (const seq of dead)
        expect(seen.get(seq) ?? 0, `seq ${seq} dead-lettered`).toBeGreaterThanOrEqual(2);
      const accounted = acks.map((a) => acked.has(a.seq) || dead.includes(a.seq));
      expect(accounted).toEqual(acks.map(() => true));
    }, 30_000);

    it('rejects bad arguments with INVALID_ARGUMENT naming the argument', async () => {
      for (const bad of ['bad topic', '', 'a..b', 'a*', 'a>', '.a', 'a/b', 'x'.repeat(201)]) {
        await expectInvalid(stream.ensureTopic(bad), 'topic');
      }
      await expectInvalid(stream.publish('no spaces allowed', [keyed('k', 'x')]), 'topic');
      await expectInvalid(stream.publish(topic, 'x' as never), 'messages');
      await expectInvalid(stream.publish(topic, [{ key: 'k', data: 'text' as never }]), 'messages[0].data');
      await expectInvalid(
        stream.publish(topic, [keyed('k', 'x'), { key: 'k', data: [1, 2] as never }]),
        'messages[1].data',
      );
      await expectInvalid(stream.publish(topic, [keyed('', 'x')]), 'messages[0].key');
      await expectInvalid(stream.publish(topic, [keyed('k', 'x', { id: '' })]), 'messages[0].id');
      await expectInvalid(
        stream.publish(topic, [keyed('k', 'x', { headers: { 'Nats-Msg-Id': 'x' } })]),
        'messages[0].headers.Nats-Msg-Id',
      );
      await expectInvalid(
        stream.publish(topic, [keyed('k', 'x', { headers: { note: 'two\nlines' } })]),
        'messages[0].headers.note',
      );
      await expectInvalid(stream.consume(topic, { name: '' }), 'options.name');
      await expectInvalid(stream.consume(topic, { name: 'has.dot' }), 'options.name');
      await expectInvalid(stream.consume(topic, { name: 'c', maxDeliver: 0 }), 'options.maxDeliver');
      await expectInvalid(stream.consume(topic, { name: 'c', ackWaitMs: -1 }), 'options.ackWaitMs');
      await expectInvalid(stream.consume(topic, { name: 'c', maxInFlight: 0 }), 'options.maxInFlight');
      await expectInvalid(stream.consume('bad topic', { name: 'c' }), 'topic');

      await stream.publish(topic, [keyed('k', 'x')]);
      const message = await reader(await stream.consume(topic, { name: 'c' })).next();
      await expectInvalid(message.nak(-5), 'delayMs');
      await message.ack();
    });

    it('answers NOT_FOUND for a topic that was never created', async () => {
      const missing = uniqueTopic('missing');
      await expect(stream.publish(missing, [keyed('k', 'x')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(stream.consume(missing, { name: 'c' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('creates a topic once however often ensureTopic is called', async () => {
      const fresh = uniqueTopic('fresh.events');
      await stream.ensureTopic(fresh);
      await stream.ensureTopic(fresh);
      await stream.ensureTopic(topic);
      const [ack] = await stream.publish(fresh, [keyed('k', 'x')]);
      expect(ack!.seq).toBe(1);
    });

    it('answers ping while open, refuses work after close, and can be closed twice', async () => {
      await stream.ping();
      await stream.close();
      await stream.close();
      await expect(stream.publish(topic, [keyed('k', 'x')])).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      await expect(stream.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
}
