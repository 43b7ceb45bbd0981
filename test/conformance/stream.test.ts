import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMeridianError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { StoreContext } from '../../src/stores/store.js';
import { createEventStream } from '../../src/stores/stream/index.js';
import { MemoryEventStream } from '../../src/stores/stream/memory.js';
import { streamNameOf } from '../../src/stores/stream/nats.js';
import type { EventStream } from '../../src/stores/stream/port.js';
import {
  freePort,
  type RunningServer,
  serverAvailable,
  startNats,
  tempStoreDir,
  waitForPort,
} from '../helpers/servers.js';
import { bytes, eventStreamConformance, reader, text, uniqueTopic } from './stream.js';

const ctx: StoreContext = { dataDir: '/nonexistent', logger: silentLogger };

eventStreamConformance('memory', async () => {
  const stream = new MemoryEventStream();
  return { stream, teardown: () => stream.close() };
});

describe('createEventStream', () => {
  it('opens the in-process stream for "memory"', async () => {
    const stream = await createEventStream('memory', ctx);
    expect(stream.description).toBe('memory');
    await stream.close();
  });

  it.each(['redis://127.0.0.1:6379', 'nats://127.0.0.1:4222,http://x', 'nats://', 'nats://h:1/path', ''])(
    'rejects %j with CONFIG_INVALID naming the eventStream field and the accepted forms',
    async (url) => {
      const err = await createEventStream(url, ctx).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMeridianError(err, 'CONFIG_INVALID')).toBe(true);
      expect(err).toMatchObject({ details: { field: 'eventStream' } });
      expect((err as Error).message).toContain('nats://host:port');
    },
  );

  it('fails within a few seconds with STORE_UNAVAILABLE naming the URL when nothing listens', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await createEventStream(url, ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(isMeridianError(err, 'STORE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(url);
  });
});

/** A nats-server we can stop and start again on the same port and store directory. */
class RestartableNats {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly jetStream: boolean,
  ) {}

  static async start(jetStream = true): Promise<RestartableNats> {
    const server = new RestartableNats(await freePort(), tempStoreDir('nats-restart'), jetStream);
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    await this.stopProcess();
    await this.startProcess();
  }

  /** Stops the server, keeping its store directory for `resume`. */
  async pause(): Promise<void> {
    await this.stopProcess();
  }

  async resume(): Promise<void> {
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startProcess(): Promise<void> {
    const args = [
      '-p',
      String(this.port),
      '-a',
      '127.0.0.1',
      ...(this.jetStream ? ['-js', '-sd', this.dir] : []),
    ];
    this.child = spawn('nats-server', args, { stdio: 'ignore' });
    await waitForPort(this.port, 15_000, this.child);
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

async function untilPingAnswers(stream: EventStream, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await stream.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Calls `attempt` until it resolves, as a caller retrying a failed call would. */
async function retryUntilDone(attempt: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.runIf(serverAvailable('nats'))('NATS JetStream event stream', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startNats();
  });

  afterAll(async () => {
    await server?.stop();
  });

  eventStreamConformance('nats', async () => {
    const stream = await createEventStream(server.url, ctx);
    return { stream, teardown: () => stream.close() };
  });

  it('resumes a durable consumer after the client disconnects and a new client connects', async () => {
    const topic = uniqueTopic('reconnect');
    const first = await createEventStream(server.url, ctx);
    await first.ensureTopic(topic);
    const acks = await first.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 2}`, data: bytes(`m${i}`) })),
    );
    await reader(await first.consume(topic, { name: 'survivor' })).take(4);
    await first.close();

    const second = await createEventStream(server.url, ctx);
    try {
      const r = reader(await second.consume(topic, { name: 'survivor' }));
      const rest = await r.take(6);
      expect(rest.map((m) => m.seq)).toEqual(acks.slice(4).map((a) => a.seq));
      expect(await r.poll(300)).toBeNull();
    } finally {
      await second.close();
    }
  });

  it('keeps messages and consumer positions when nats-server restarts on the same store directory', async () => {
    const nats = await RestartableNats.start();
    const stream = await createEventStream(nats.url, ctx);
    try {
      const topic = uniqueTopic('restart');
      await stream.ensureTopic(topic);
      await stream.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: 'k', data: bytes(`m${i}`) })),
      );
      const resumer = await stream.consume(topic, { name: 'resumer', ackWaitMs: 1000 });
      await reader(resumer).take(4);
      await resumer.close();
      const live = reader(await stream.consume(topic, { name: 'live' }));
      await live.take(10);

      await nats.restart();
      await untilPingAnswers(stream);

      const after = await stream.publish(topic, [
        { key: 'k', data: bytes('m10') },
        { key: 'k', data: bytes('m11') },
      ]);
      expect(after.map((a) => a.seq)).toEqual([11, 12]);
      const resumed = await reader(await stream.consume(topic, { name: 'resumer', ackWaitMs: 1000 })).take(
        8,
        10_000,
      );
      expect(resumed.map((m) => text(m.data))).toEqual(Array.from({ length: 8 }, (_, i) => `m${i + 4}`));
      const fromLive = await live.take(2, 15_000);
      expect(fromLive.map((m) => text(m.data))).toEqual(['m10', 'm11']);
    } finally {
      await stream.close();
      await nats.stop();
    }
  });

  it('acks for real when a caller retries an ack that failed while the server was down', async () => {
    const nats = await RestartableNats.start();
    const stream = await createEventStream(nats.url, ctx);
    let observer: NatsConnection | undefined;
    try {
      const topic = uniqueTopic('ack-retry');
      await stream.ensureTopic(topic);
      await stream.publish(topic, [{ key: 'k', data: bytes('once') }]);
      const message = await reader(
        await stream.consume(topic, { name: 'retrier', ackWaitMs: 60_000 }),
      ).next();

      await nats.pause();
      await expect(message.ack()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await nats.resume();
      await untilPingAnswers(stream);
      await retryUntilDone(() => message.ack());

      observer = await connect({ servers: `127.0.0.1:${nats.port}`, timeout: 3000 });
      const jsm = await jetstreamManager(observer);
      const info = await jsm.consumers.info(streamNameOf(topic), 'retrier');
      expect(info.num_ack_pending).toBe(0);
      expect(info.ack_floor.stream_seq).toBe(message.seq);
    } finally {
      await observer?.close();
      await stream.close();
      await nats.stop();
    }
  }, 30_000);

  it('fails with STORE_UNAVAILABLE when the server runs without JetStream', async () => {
    const plain = await RestartableNats.start(false);
    try {
      await expect(createEventStream(plain.url, ctx)).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringContaining('-js'),
      });
    } finally {
      await plain.stop();
    }
  });
});
