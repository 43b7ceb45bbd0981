/**
 * The job queue conformance suite: every JobQueue implementation must pass these, unchanged.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job, JobInfo, JobQueue } from '../../src/stores/queue/port.js';
import { rejection } from '../helpers/errors.js';

export interface QueueFixture {
  /** Opens another queue instance on the shared database, as another process would. */
  open(): Promise<JobQueue>;
  /** Store URLs for the child worker process (`queue-worker.ts <state> <queue> <name> <dataDir>`). */
  child: { stateUrl: string; queueUrl: string; dataDir: string };
  /**
   * Whether instances may stay open while the child runs. PGlite: no — one process owns the data
   * directory, so `releaseForChild()` closes every instance first and `open()` reopens it afterwards.
   */
  sharedWithChild: boolean;
  releaseForChild(): Promise<void>;
  teardown(): Promise<void>;
}

const WORKER = resolve(import.meta.dirname, 'fixtures/queue-worker.ts');
const FAST = { pollingIntervalSeconds: 0.1 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function jobInState(q: JobQueue, queue: string, id: string, state: JobInfo['state']) {
  return async (): Promise<JobInfo | undefined> => {
    const info = await q.getJob(queue, id);
    return info?.state === state ? info : undefined;
  };
}

interface ChildWorker {
  process: ChildProcess;
  started: Promise<{ id: string; retryCount: number }>;
}

function spawnWorker(fx: QueueFixture, queue: string): ChildWorker {
  const { stateUrl, queueUrl, dataDir } = fx.child;
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, stateUrl, queueUrl, queue, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const started = new Promise<{ id: string; retryCount: number }>((resolveStarted, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string; id: string; retryCount: number };
      if (event.event === 'started') resolveStarted({ id: event.id, retryCount: event.retryCount });
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`worker exited (${code ?? signal}) early: ${stderr}`)),
    );
  });
  return { process: child, started };
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Runs the shared job queue suite against one implementation. */
export function jobQueueConformance(name: string, setup: () => Promise<QueueFixture>): void {
  describe(`job queue conformance: ${name}`, () => {
    let fx: QueueFixture;
    let q: JobQueue;
    let queue: string;

    beforeEach(async () => {
      fx = await setup();
      q = await fx.open();
      queue = `q-${randomUUID().slice(0, 8)}`;
      await q.createQueue(queue);
    });
    afterEach(async () => {
      await fx.teardown();
    });

    it('creates queues idempotently and records a sent job as created, with its data and limits', async () => {
      await q.createQueue(queue);
      const id = await q.send(queue, { model: 'churn', rows: [1, 2] }, { retryLimit: 4 });
      const info = await q.getJob<{ model: string }>(queue, id!);
      expect(info).toMatchObject({ id, queue, data: { model: 'churn', rows: [1, 2] }, state: 'created' });
      expect(info).toMatchObject({
        retryCount: 0,
        retryLimit: 4,
        output: null,
        startedOn: null,
        completedOn: null,
      });
      expect(info?.createdOn).toBeInstanceOf(Date);
      expect((await q.getJob(queue, (await q.send(queue, 'plain text'))!))?.data).toBe('plain text');
      expect(await q.getJob(queue, randomUUID())).toBeNull();
    });

    it('hands each job to exactly one worker at a time across two instances', async () => {
      const other = await fx.open();
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) ids.add((await q.send(queue, { i }, { retryLimit: 0 }))!);
      const runs = new Map<string, number>();
      const running = new Set<string>();
      const byInstance = [0, 0];
      let overlaps = 0;
      const handler = (instance: number) => async (job: Job) => {
        if (running.has(job.id)) overlaps++;
        running.add(job.id);
        runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
        byInstance[instance]!++;
        await sleep(5 + Math.random() * 20);
        running.delete(job.id);
      };
      await q.work(queue, handler(0), { concurrency: 3, ...FAST });
      await other.work(queue, handler(1), { concurrency: 3, ...FAST });
      await waitFor('all 40 jobs', async () => runs.size === 40 && running.size === 0, 20_000);
      await Promise.all([q.stopWork(), other.stopWork()]);
      expect(overlaps).toBe(0);
      expect([...runs.keys()].sort()).toEqual([...ids].sort());
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(byInstance[0]! + byInstance[1]!).toBe(40);
      expect(byInstance.every((count) => count > 0)).toBe(true);
      for (const id of ids) expect((await q.getJob(queue, id))?.state).toBe('completed');
    }, 30_000);

    it('retries a failing job with growing delays up to its limit, then fails it with its error', async () => {
      const id = (await q.send(queue, {}, { retryLimit: 2, retryDelaySeconds: 1, retryBackoff: true }))!;
      const attempts: { at: number; retryCount: number }[] = [];
      await q.work(
        queue,
        async (job) => {
          attempts.push({ at: Date.now(), retryCount: job.retryCount });
          throw new Error(`attempt ${job.retryCount} failed`);
        },
        FAST,
      );
      const failed = await waitFor('the job to fail', jobInState(q, queue, id, 'failed'), 15_000);
      expect(attempts.map((a) => a.retryCount)).toEqual([0, 1, 2]);
      const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
      // Backoff: the first retry waits 1-2 s, the second 2-4 s (delay x 2^attempt with jitter).
      expect(second - first).toBeGreaterThanOrEqual(900);
      expect(third - second).toBeGreaterThanOrEqual(1900);
      expect(failed.retryCount).toBe(2);
      expect(failed.output).toMatchObject({ message: 'attempt 2 failed' });
      expect((failed.output as { stack: string }).stack).toContain('attempt 2 failed');
      expect(failed.completedOn).toBeInstanceOf(Date);
    }, 25_000);

    it('keeps the handler result of a completed job as its output', async () => {
      const id = (await q.send(queue, { x: 20 }))!;
      await q.work(queue, async (job: Job<{ x: number }>) => ({ doubled: job.data.x * 2 }), FAST);
      const done = await waitFor('completion', jobInState(q, queue, id, 'completed'), 10_000);
      expect(done.output).toEqual({ doubled: 40 });
      expect(done.startedOn).toBeInstanceOf(Date);
      expect(done.completedOn!.getTime()).toBeGreaterThanOrEqual(done.startedOn!.getTime());
    });

    it('ignores a send with a singleton key already queued or active, and accepts it again after completion', async () => {
      const first = await q.send(queue, { n: 1 }, { singletonKey: 'nightly' });
      expect(first).toEqual(expect.any(String));
      expect(await q.send(queue, { n: 2 }, { singletonKey: 'nightly' })).toBeNull();
      expect(await q.send(queue, { n: 3 }, { singletonKey: 'hourly' })).toEqual(expect.any(String));
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      await q.work(queue, async () => gate, FAST);
      await waitFor('the singleton to run', jobInState(q, queue, first!, 'active'), 10_000);
      expect(await q.send(queue, { n: 4 }, { singletonKey: 'nightly' })).toBeNull();
      release();
      await waitFor('the singleton to finish', jobInState(q, queue, first!, 'completed'), 10_000);
      const again = await q.send(queue, { n: 5 }, { singletonKey: 'nightly' });
      expect(again).toEqual(expect.any(String));
      expect(again).not.toBe(first);
    });

    it('runs higher priority first and holds a job until its startAfter time', async () => {
      const startAfter = new Date(Date.now() + 1500);
      const late = (await q.send(queue, 'late', { priority: 10, startAfter }))!;
      await q.send(queue, 'low', { priority: 0 });
      await q.send(queue, 'high', { priority: 5 });
      const order: { data: unknown; at: number }[] = [];
      await q.work(queue, async (job) => void order.push({ data: job.data, at: Date.now() }), FAST);
      await waitFor('the late job', jobInState(q, queue, late, 'completed'), 10_000);
      expect(order.map((o) => o.data)).toEqual(['high', 'low', 'late']);
      expect(order[2]!.at).toBeGreaterThanOrEqual(startAfter.getTime() - 50);
    });

    it('lets a running job finish when its worker stops, and then takes no new jobs', async () => {
      const id = (await q.send(queue, 'slow'))!;
      let started = false;
      const worker = await q.work(
        queue,
        async () => {
          started = true;
          await sleep(400);
          return 'finished';
        },
        FAST,
      );
      await waitFor('the job to start', async () => started, 10_000);
      await q.stopWork(worker);
      expect((await q.getJob(queue, id))?.state).toBe('completed');
      const next = (await q.send(queue, 'after stop'))!;
      await sleep(500);
      expect((await q.getJob(queue, next))?.state).toBe('created');
    });

    it('fails a job whose handler outlives close() so that it is retried, closing within the grace period', async () => {
      const id = (await q.send(queue, 'stuck', { retryDelaySeconds: 0, retryBackoff: false }))!;
      let started = false;
      await q.work(
        queue,
        async () => {
          started = true;
          await new Promise(() => undefined);
        },
        FAST,
      );
      await waitFor('the job to start', async () => started, 10_000);
      const closing = Date.now();
      await q.close();
      expect(Date.now() - closing).toBeLessThan(5000);
      const info = await (await fx.open()).getJob(queue, id);
      expect(info).toMatchObject({ state: 'retry', retryCount: 0 });
      expect(info?.output).toMatchObject({
        message: expect.stringContaining('closed while this job was running'),
      });
    });

    it('gives the job of a worker killed mid-job (SIGKILL) to another worker once it expires', async () => {
      const id = (await q.send(
        queue,
        { step: 'train' },
        { expireInSeconds: 2, retryLimit: 1, retryDelaySeconds: 0, retryBackoff: false },
      ))!;
      await fx.releaseForChild();
      const child = spawnWorker(fx, queue);
      try {
        const taken = await child.started;
        expect(taken).toEqual({ id, retryCount: 0 });
        let survivor: JobQueue | undefined;
        const handled: Job[] = [];
        const survive = async (): Promise<JobQueue> => {
          const s = await fx.open();
          await s.work(queue, async (job) => void handled.push(job), FAST);
          return s;
        };
        if (fx.sharedWithChild) survivor = await survive();
        await killHard(child.process);
        const killedAt = Date.now();
        survivor ??= await survive();
        const done = await waitFor(
          'the survivor to finish the job',
          jobInState(survivor, queue, id, 'completed'),
          15_000,
        );
        expect(Date.now() - killedAt).toBeLessThan(10_000);
        expect(handled.map((j) => [j.id, j.retryCount])).toEqual([[id, 1]]);
        expect(done.retryCount).toBe(1);
      } finally {
        await killHard(child.process);
      }
    }, 60_000);

    it('fails an active job on its attempt so it is retried, then for good on its last one; other attempts and finished jobs stay as they are', async () => {
      const id = (await q.send(queue, 'lost', { retryLimit: 1, retryDelaySeconds: 0, retryBackoff: false }))!;
      const taken: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const handler = async (job: Job): Promise<void> => {
        taken.push(job.retryCount);
        await gate;
      };
      await q.work(queue, handler, { concurrency: 2, ...FAST });
      await waitFor('the first attempt', async () => taken.includes(0), 10_000);
      expect(await q.fail(queue, id, { message: 'worker lost' }, 1)).toBeNull();
      expect(await q.fail(queue, id, { message: 'worker lost' }, 0)).toBe('retry');
      expect(await q.fail(queue, id, { message: 'worker lost' }, 0)).toBeNull();
      await waitFor('the retry to be taken', async () => taken.includes(1), 10_000);
      expect(await q.fail(queue, id, { message: 'lost again' }, 1)).toBe('failed');
      release();
      await sleep(300);
      const failed = await q.getJob(queue, id);
      expect(failed).toMatchObject({ state: 'failed', retryCount: 1, output: { message: 'lost again' } });
      expect(await q.fail(queue, id, { message: 'too late' }, 1)).toBeNull();
      expect(taken).toEqual([0, 1]);
    }, 20_000);

    it('rejects bad arguments with INVALID_ARGUMENT naming the argument, and unknown queues with NOT_FOUND', async () => {
      const noop = async (): Promise<void> => undefined;
      const calls: [Promise<unknown>, string][] = [
        [q.createQueue('has space'), 'queue'],
        [q.createQueue(''), 'queue'],
        [q.createQueue('x'.repeat(65)), 'queue'],
        [q.send('bad/name', {}), 'queue'],
        [q.send(queue, {}, { retryLimit: -1 }), 'options.retryLimit'],
        [q.send(queue, {}, { retryDelaySeconds: 1.5 }), 'options.retryDelaySeconds'],
        [q.send(queue, {}, { expireInSeconds: 0 }), 'options.expireInSeconds'],
        [q.send(queue, {}, { priority: 0.5 }), 'options.priority'],
        [q.send(queue, {}, { startAfter: new Date('never') }), 'options.startAfter'],
        [q.send(queue, {}, { singletonKey: '' }), 'options.singletonKey'],
        [q.send(queue, {}, { retryBackoff: 'yes' as unknown as boolean }), 'options.retryBackoff'],
        [q.send(queue, { n: 1n }), 'data'],
        [q.work(queue, 'not a function' as unknown as () => Promise<void>), 'handler'],
        [q.work(queue, noop, { concurrency: 0 }), 'options.concurrency'],
        [q.work(queue, noop, { pollingIntervalSeconds: 0 }), 'options.pollingIntervalSeconds'],
        [q.getJob(queue, 'not-a-uuid'), 'id'],
        [q.fail(queue, 'not-a-uuid', { message: 'lost' }, 0), 'id'],
        [q.fail(queue, randomUUID(), { message: 'lost' }, -1), 'retryCount'],
      ];
      for (const [call, field] of calls) {
        const err = await rejection(call);
        expect(err.code, field).toBe('INVALID_ARGUMENT');
        expect(err.details.field).toBe(field);
      }
      const missing = await rejection(q.send('never-created', {}));
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.message).toContain('createQueue("never-created")');
    });

    it('answers ping while open, refuses every call with STORE_UNAVAILABLE once closed, and closes twice safely', async () => {
      await q.ping();
      await q.close();
      await q.close();
      const calls = [
        q.ping(),
        q.createQueue(queue),
        q.send(queue, {}),
        q.work(queue, async () => undefined),
        q.getJob(queue, randomUUID()),
        q.fail(queue, randomUUID(), { message: 'lost' }, 0),
        q.stopWork(),
      ];
      for (const call of calls) {
        const err = await rejection(call);
        expect(err.code).toBe('STORE_UNAVAILABLE');
        expect(err.message).toContain('is closed');
      }
    });

    it('refuses new work as soon as close() is called, and a second close() settles only when the first has', async () => {
      const id = (await q.send(queue, 'slow'))!;
      let started = false;
      let finished = false;
      await q.work(
        queue,
        async () => {
          started = true;
          await sleep(300);
          finished = true;
          return 'done';
        },
        FAST,
      );
      await waitFor('the job to start', async () => started, 10_000);
      const first = q.close();
      expect((await rejection(q.send(queue, 'late'))).code).toBe('STORE_UNAVAILABLE');
      await q.close();
      expect(finished).toBe(true);
      await first;
      expect((await (await fx.open()).getJob(queue, id))?.state).toBe('completed');
    });
  });
}
