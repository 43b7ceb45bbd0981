import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.js';
import { MeridianError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { type Catalog, catalogFromDefinitions } from '../../src/features/catalog.js';
import { definitionsSchema } from '../../src/features/definitions.js';
import { createIngestor, type Ingestor, type PushResult } from '../../src/features/ingest/push.js';
import {
  type EventConsumerOptions,
  type EventConsumers,
  startEventConsumers,
} from '../../src/features/ingest/stream-consumer.js';
import { eventsTopic, publishEvents } from '../../src/features/ingest/stream-producer.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { createEventStream } from '../../src/stores/stream/index.js';
import { MemoryEventStream } from '../../src/stores/stream/memory.js';
import { deadLetterTopic, type EventStream, type StreamMessage } from '../../src/stores/stream/port.js';
import { USER } from '../helpers/catalog.js';
import { expectInvalid } from '../helpers/errors.js';
import { type RunningServer, serverAvailable, startNats, tempStoreDir } from '../helpers/servers.js';

const source = (name: string, kind: 'stream' | 'batch') => ({
  name,
  kind,
  timestampField: 'ts',
  schema: { user_id: 'int64', amount: 'float64', country: 'string', ts: 'timestamp' },
});
const view = (name: string, from: string) => ({
  name,
  entities: ['user'],
  source: from,
  features: { amount: 'float64', country: 'string' },
});
const catalogOf = (sources: ReturnType<typeof source>[]) =>
  catalogFromDefinitions(
    definitionsSchema.parse({
      entities: [USER],
      sources,
      featureViews: sources.map((s) => view(`${s.name}_view`, s.name)),
      featureServices: [],
    }),
  );
const initial = catalogOf([source('activity', 'stream'), source('uploads', 'batch')]);
const withClicks = catalogOf([source('activity', 'stream'), source('clicks', 'stream')]);

const T0 = Date.parse('2024-05-01T00:00:00Z');
const event = (user: number, minutes: number, amount: number) => ({
  user_id: user,
  amount,
  country: 'US',
  ts: new Date(T0 + minutes * 60_000).toISOString(),
});
const FAST: EventConsumerOptions = { ackWaitMs: 1000, retryBaseMs: 50, retryMaxMs: 200, drainTimeoutMs: 200 };

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Runs the stream-ingestion cases against the event stream `open` gives for each test. */
function streamConsumerSuite(
  name: string,
  open: () => Promise<{ stream: EventStream; stop(): Promise<void> }>,
  /** Publishes raw bytes the way a non-Meridian producer would, where the stream has such producers. */
  rawPublish?: (subject: string, data: string) => Promise<void>,
) {
  describe(`stream ingestion over ${name}`, () => {
    let dir: string;
    let offline: OfflineStore;
    let online: OnlineStore;
    let ingestor: Ingestor;
    let stream: EventStream;
    let stop: () => Promise<void>;
    let current: Catalog;
    const started: EventConsumers[] = [];
    let nextUser = 1;
    const user = () => nextUser++;

    // The catalog a running platform sees: what was applied last.
    const catalog: Catalog = {
      entity: (n) => current.entity(n),
      source: (n) => current.source(n),
      view: (n) => current.view(n),
      service: (n) => current.service(n),
      viewsOfSource: (s) => current.viewsOfSource(s),
      views: () => current.views(),
    };

    const start = async (options: EventConsumerOptions = {}, using: Ingestor = ingestor) => {
      const consumers = await startEventConsumers({
        stream,
        catalog,
        ingestor: using,
        logger: silentLogger,
        options: { ...FAST, ...options },
      });
      started.push(consumers);
      return consumers;
    };
    const publish = (events: unknown, to = 'activity') =>
      publishEvents(stream, to, events, { joinKeys: ['user_id'] });
    const rows = async (id: number, table = 'fv_activity_view') =>
      (
        await offline.query<{ n: number }>(
          `SELECT count(*)::INTEGER AS n FROM "${table}" WHERE user_id = $1`,
          [BigInt(id)],
        )
      )[0]!.n;
    const onlineAmount = async (id: number, viewName = 'activity_view') => {
      const [read] = await online.getMany(viewName, [String(id)], ['amount']);
      return read!.found ? read!.features[0]!.value : undefined;
    };
    const deadLetters = async (count: number): Promise<StreamMessage[]> => {
      const consumer = await stream.consume(deadLetterTopic(eventsTopic('activity')), { name: 'dlq-check' });
      const out: StreamMessage[] = [];
      const it = consumer[Symbol.asyncIterator]();
      while (out.length < count) out.push((await it.next()).value as StreamMessage);
      await consumer.close();
      return out;
    };

    beforeAll(async () => {
      dir = tempStoreDir(`stream-consumer-${name}`);
      const ctx = { dataDir: dir, logger: silentLogger };
      offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
      online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
      // The tables exist before the first poll, so `rows` never races their creation.
      ingestor = createIngestor({ offline, online, catalog: withClicks, maxDelayMs: 5 });
      await ingestor.push('activity', [event(0, 0, 0)]);
      await ingestor.push('clicks', [event(0, 0, 0)]);
      await ingestor.close();
      ingestor = createIngestor({ offline, online, catalog, maxDelayMs: 5 });
    });

    beforeEach(async () => {
      current = initial;
      ({ stream, stop } = await open());
    });

    afterEach(async () => {
      await Promise.all(started.splice(0).map((c) => c.close()));
      await stop();
    });

    afterAll(async () => {
      await ingestor?.close();
      await online?.close();
      await offline?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('turns events published to events.activity into view rows offline and online', async () => {
      const [a, b] = [user(), user()];
      const consumers = await start();
      expect(consumers.sources()).toEqual(['activity']);
      await publish(event(a, 1, 10));
      await publish([event(b, 1, 20), event(b, 2, 21), event(a, 2, 11)]);
      await waitFor(
        'both entities online',
        async () => (await onlineAmount(a)) === 11 && (await onlineAmount(b)) === 21,
      );
      expect([await rows(a), await rows(b)]).toEqual([2, 2]);
      expect(await rows(a, 'src_activity')).toBe(2);
    });

    if (rawPublish) {
      it('consumes events a plain publisher put on meridian.events.activity without a key', async () => {
        const a = user();
        await start();
        await rawPublish('meridian.events.activity', JSON.stringify([event(a, 1, 31), event(a, 2, 32)]));
        await waitFor('the raw events online', async () => (await onlineAmount(a)) === 32);
        expect(await rows(a)).toBe(2);
      });
    }

    it('writes the events of a message delivered twice only once', async () => {
      const a = user();
      await start();
      await publish([event(a, 1, 1), event(a, 2, 2)]);
      await publish([event(a, 1, 1), event(a, 2, 2)]);
      await publish(event(a, 3, 3));
      await waitFor('the last event', async () => (await onlineAmount(a)) === 3);
      expect(await rows(a)).toBe(3);
      expect(await rows(a, 'src_activity')).toBe(3);
    });

    it('dead-letters a poison message with its reason and keeps consuming the other keys', async () => {
      const [bad, good] = [user(), user()];
      // Slow pushes make the bad key's later messages wait and go as one merged push.
      const pushed: number[] = [];
      const slow: Ingestor = {
        push: async (s, events) => {
          pushed.push((events as unknown[]).length);
          await sleep(200);
          return ingestor.push(s, events);
        },
        close: async () => {},
      };
      await start({ ackWaitMs: 10_000 }, slow);
      await publish(event(bad, 1, 1));
      await sleep(50);
      await publish([{ ...event(bad, 2, 0), amount: 'lots' }]);
      await stream.publish(eventsTopic('activity'), [
        { key: 'junk', data: new TextEncoder().encode('{oops') },
      ]);
      await publish([event(good, 1, 5), event(good, 2, 6)]);
      await publish(event(bad, 3, 3));

      await waitFor('the good key and the later message of the bad key', async () => {
        return (await onlineAmount(good)) === 6 && (await onlineAmount(bad)) === 3;
      });
      const dead = await deadLetters(2);
      const invalid = dead.find((m) => m.key === String(bad));
      const junk = dead.find((m) => m.key === 'junk');
      expect(invalid?.headers['Meridian-Dlq-Reason']).toMatch(
        /^INVALID_ARGUMENT: events\[0\]\.amount: "lots" is not float64/,
      );
      expect(junk?.headers['Meridian-Dlq-Reason']).toMatch(/^INVALID_ARGUMENT: message: is not UTF-8 JSON/);
      expect(JSON.parse(new TextDecoder().decode(invalid!.data))[0].amount).toBe('lots');
      expect([await rows(bad), await rows(good)]).toEqual([2, 2]);
      // The merged push of the bad key failed, then each of its messages went alone.
      expect(pushed.filter((n) => n === 2)).toHaveLength(2);
      expect(pushed.filter((n) => n === 1)).toHaveLength(3);
    });

    it('resumes after a close and a restart without losing or repeating an event', async () => {
      const a = user();
      const first = await start();
      await publish([1, 2, 3].map((m) => event(a, m, m)));
      await waitFor('the first events', async () => (await rows(a)) === 3);
      await first.close();
      await publish([4, 5].map((m) => event(a, m, m)));
      await publish(event(a, 6, 6));
      await sleep(300);
      expect(await rows(a)).toBe(3);

      await start();
      await waitFor('the events published while stopped', async () => (await onlineAmount(a)) === 6);
      await sleep(300);
      expect(await rows(a)).toBe(6);
      expect(await rows(a, 'src_activity')).toBe(6);
    });

    it('redelivers a message whose push was durable when the consumer died before acking, and writes it once', async () => {
      const a = user();
      let durable = false;
      const dying: Ingestor = {
        push: async (s, events) => {
          await ingestor.push(s, events);
          durable = true;
          return new Promise<PushResult>(() => {});
        },
        close: async () => {},
      };
      const crashed = await start({}, dying);
      await publish(event(a, 1, 7));
      await waitFor('the durable write', async () => durable);
      await crashed.close();

      const results: PushResult[] = [];
      const recording: Ingestor = {
        push: async (s, events) => {
          const result = await ingestor.push(s, events);
          results.push(result);
          return result;
        },
        close: async () => {},
      };
      await start({}, recording);
      await waitFor('the redelivery', async () => results.length > 0);
      expect(results[0]).toEqual({ accepted: 0, duplicates: 1 });
      expect(await rows(a)).toBe(1);
      expect(await onlineAmount(a)).toBe(7);
      await sleep(1500);
      expect(results).toHaveLength(1);
    });

    it('retries a push that failed for a passing reason until it is written, and dead-letters nothing', async () => {
      const a = user();
      let failures = 0;
      const flaky: Ingestor = {
        push: async (s, events) => {
          if (failures++ < 3) throw new MeridianError('STORE_UNAVAILABLE', 'offline store is down');
          return ingestor.push(s, events);
        },
        close: async () => {},
      };
      await start({}, flaky);
      await publish(event(a, 1, 9));
      await waitFor('the retried event', async () => (await onlineAmount(a)) === 9);
      expect(failures).toBe(4);
      expect(await rows(a)).toBe(1);
      const dlq = await stream.consume(deadLetterTopic(eventsTopic('activity')), { name: 'dlq-empty' });
      const next = dlq[Symbol.asyncIterator]().next();
      expect(await Promise.race([next.then(() => 'message'), sleep(500).then(() => 'none')])).toBe('none');
      await dlq.close();
    });

    it('writes the corrections of an entity in publish order, so the last one published wins', async () => {
      const [a, b] = [user(), user()];
      const corrections = Array.from({ length: 40 }, (_, i) => i + 1);
      let accepted = 0;
      // Pushes that take varying time to reach the batcher (as parsing in a worker would) must
      // still be written in publish order.
      const uneven: Ingestor = {
        push: async (s, events) => {
          await sleep(Math.random() * 15);
          const result = await ingestor.push(s, events);
          accepted += result.accepted;
          return result;
        },
        close: async () => {},
      };
      await start({ maxGroupEvents: 4 }, uneven);
      await Promise.all([
        (async () => {
          for (const amount of corrections) await publish(event(a, 5, amount));
        })(),
        (async () => {
          for (const amount of corrections) await publish(event(b, 5, -amount));
        })(),
      ]);
      await waitFor('every correction durable in both stores', async () => accepted === 80);
      expect(await onlineAmount(a)).toBe(40);
      expect(await onlineAmount(b)).toBe(-40);
      const ordered = await offline.query<{ amount: number }>(
        'SELECT amount FROM fv_activity_view WHERE user_id = $1 ORDER BY created_timestamp',
        [BigInt(a)],
      );
      expect(ordered.map((r) => r.amount)).toEqual(corrections);
    });

    it('consumes stream sources applied later, stops removed ones and never consumes batch sources', async () => {
      const a = user();
      const consumers = await start();
      expect(consumers.sources()).toEqual(['activity']);
      current = withClicks;
      await consumers.refresh();
      expect(consumers.sources()).toEqual(['activity', 'clicks']);
      await publish(event(a, 1, 4), 'clicks');
      await waitFor('the clicks event', async () => (await onlineAmount(a, 'clicks_view')) === 4);

      current = initial;
      await consumers.refresh();
      expect(consumers.sources()).toEqual(['activity']);
    });

    it('picks up a stream source applied later by itself when polling', async () => {
      const a = user();
      const consumers = await start({ pollMs: 50 });
      current = withClicks;
      await waitFor('the polled source', async () => consumers.sources().includes('clicks'));
      await publish(event(a, 1, 8), 'clicks');
      await waitFor('the clicks event', async () => (await onlineAmount(a, 'clicks_view')) === 8);
    });
  });
}

streamConsumerSuite('the in-process stream', async () => {
  const stream = new MemoryEventStream();
  return { stream, stop: () => stream.close() };
});

describe.runIf(serverAvailable('nats'))('with nats-server -js', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startNats();
  });
  afterAll(async () => {
    await server?.stop();
  });
  streamConsumerSuite(
    'NATS JetStream',
    async () => {
      const stream = await createEventStream(server.url, { dataDir: '/nonexistent', logger: silentLogger });
      // Topic names come from the catalog, so tests share them: each one starts with none.
      const stop = async () => {
        await stream.close();
        const nc = await connect({ servers: server.url });
        const jsm = await jetstreamManager(nc);
        for await (const info of jsm.streams.list()) await jsm.streams.delete(info.config.name);
        await nc.close();
      };
      return { stream, stop };
    },
    async (subject, data) => {
      const nc = await connect({ servers: server.url });
      await jetstream(nc).publish(subject, data);
      await nc.close();
    },
  );
});

describe('startEventConsumers', () => {
  it('rejects a bad option naming it, before consuming anything', async () => {
    const stream = new MemoryEventStream();
    const deps = {
      stream,
      catalog: initial,
      ingestor: { push: async () => ({ accepted: 0, duplicates: 0 }), close: async () => {} },
    };
    await expectInvalid(startEventConsumers({ ...deps, options: { maxInFlight: 0 } }), 'options.maxInFlight');
    await expectInvalid(startEventConsumers({ ...deps, options: { ackWaitMs: 1.5 } }), 'options.ackWaitMs');
    await stream.close();
  });
});
