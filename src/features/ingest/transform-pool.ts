/**
 * The worker-thread pool TypeScript transforms run in (piscina), so several batches transform in
 * parallel on all cores while the event loop keeps serving requests. The threads start on first
 * use; each compiles a view's function once per transform version and keeps it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { invalidArgument } from '../../core/errors.js';
import { TRANSFORM_WORKER_SOURCE } from './transform-code.js';

/** The most threads a pool may have; the config key `features.transformThreads` has the same bound. */
export const MAX_TRANSFORM_THREADS = 64;

/** One batch for a view's transform: its text, cache key (view and version) and input rows. */
export interface TransformTask {
  key: string;
  text: string;
  rows: Record<string, unknown>[];
  /** Over upstream views: each view's rows of this batch (`rows` is their concatenation). */
  byView?: Record<string, Record<string, unknown>[]>;
}

/** What the worker answers: the output rows, or where and how the function failed. */
export type TransformAnswer =
  | { ok: true; rows: unknown[] }
  | { ok: false; stage: 'compile' | 'run' | 'output'; name: string; message: string };

export interface TransformPool {
  readonly threads: number;
  /** Runs one batch on a worker thread; rows are structured-cloned both ways. */
  run(task: TransformTask): Promise<TransformAnswer>;
  /** Stops the threads and removes the worker file; waits for running batches. */
  close(): Promise<void>;
}

/** The default size: one thread per core, within 1..64. */
export const defaultTransformThreads = (): number =>
  Math.min(Math.max(availableParallelism(), 1), MAX_TRANSFORM_THREADS);

/** Creates a pool of `threads` worker threads (1..64), started lazily. */
export function createTransformPool(options: { threads?: number } = {}): TransformPool {
  const threads = options.threads ?? defaultTransformThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_TRANSFORM_THREADS) {
    throw invalidArgument(
      'transformThreads',
      `${threads} is not a whole number from 1 to ${MAX_TRANSFORM_THREADS}`,
      'set features.transformThreads to the number of threads TypeScript transforms may use',
    );
  }
  let started: { piscina: Piscina; dir: string } | undefined;
  const start = () => {
    if (started) return started.piscina;
    const dir = mkdtempSync(join(tmpdir(), 'meridian-transform-'));
    const filename = join(dir, 'transform-worker.mjs');
    writeFileSync(filename, TRANSFORM_WORKER_SOURCE);
    // All threads at once: batches then never wait for a thread to start, and compiled functions stay cached.
    const piscina = new Piscina({ filename, minThreads: threads, maxThreads: threads });
    started = { piscina, dir };
    return piscina;
  };
  return {
    threads,
    run: (task) => start().run(task) as Promise<TransformAnswer>,
    async close() {
      if (!started) return;
      const { piscina, dir } = started;
      started = undefined;
      await piscina.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: TransformPool | undefined;

/**
 * The process-wide pool for ingestion paths given none (one thread per core). Its idle threads do
 * not keep the process alive.
 */
export function sharedTransformPool(): TransformPool {
  shared ??= createTransformPool();
  return shared;
}
