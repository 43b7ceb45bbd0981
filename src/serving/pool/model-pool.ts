/**
 * The warm worker pool of one deployed version (piscina): between `minWorkers` and `maxWorkers`
 * threads, each holding its own copy of the model. The pool reports itself started only once its
 * first `minWorkers` threads have loaded the model and run their warm-up inference; threads added
 * under load are handed work only after the same warm-up, and leave again after `idleTimeoutMs`.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { MeridianError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { InputBatch, Prediction } from '../runtimes/model.js';
import { WARM_MESSAGE, type WorkerAnswer, type WorkerSetup } from './protocol.js';

export interface PoolOptions {
  minWorkers: number;
  maxWorkers: number;
  /** How long a thread above `minWorkers` may stay idle before it exits. */
  idleTimeoutMs: number;
  /** How long the first threads may take to load and warm up; default 60 s. */
  startTimeoutMs?: number;
}

export interface ModelPool {
  /** Threads running now (between min and max). */
  readonly threads: number;
  /** Batches waiting for a free thread. */
  readonly queued: number;
  /** Predicts one batch on a free thread; the batch is copied, never detached from the caller. */
  predict(batch: InputBatch): Promise<Prediction>;
  /** Waits for running batches, then stops every thread. */
  close(): Promise<void>;
}

/** Where the worker module is: beside this file, run through tsx when Meridian runs from its sources. */
function workerFiles(): { filename: string; workerModule: string } {
  const here = import.meta.url;
  const fromSources = here.endsWith('.ts');
  const workerModule = new URL(`./model-worker.${fromSources ? 'ts' : 'js'}`, here).href;
  const entry = fromSources ? new URL('./worker-boot.mjs', here).href : workerModule;
  return { filename: fileURLToPath(entry), workerModule };
}

/** Starts the pool and resolves once its first `minWorkers` threads are warm. */
export async function startModelPool(
  setup: WorkerSetup,
  options: PoolOptions,
  logger: Logger,
): Promise<ModelPool> {
  const { filename, workerModule } = workerFiles();
  const piscina = new Piscina({
    filename,
    minThreads: options.minWorkers,
    maxThreads: options.maxWorkers,
    idleTimeout: options.idleTimeoutMs,
    workerData: { ...setup, workerModule },
  });
  // Without a listener an error from a thread outside any task would throw in the serving thread.
  piscina.on('error', (err: unknown) => logger.error({ err }, 'a model worker thread failed'));
  try {
    await warmThreads(piscina, options.minWorkers, options.startTimeoutMs ?? 60_000);
  } catch (err) {
    await piscina.destroy();
    throw err;
  }
  return {
    get threads() {
      return piscina.threads.length;
    },
    get queued() {
      return piscina.queueSize;
    },
    async predict(batch) {
      const started = performance.now();
      const answer = (await piscina.run(batch)) as WorkerAnswer;
      if (answer.ok) {
        const queueSeconds = Math.max(0, (performance.now() - started - answer.computeMs) / 1000);
        return { ...answer.prediction, queueSeconds };
      }
      throw new MeridianError(answer.code, answer.message, answer.details ?? {});
    },
    close: () => piscina.close(),
  };
}

/** Resolves when `count` threads have posted their warm message; rejects on a thread error or timeout. */
function warmThreads(piscina: Piscina, count: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let warm = 0;
    const done = (err?: unknown) => {
      clearTimeout(timer);
      piscina.off('message', onMessage);
      piscina.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onMessage = (message: unknown) => {
      if (typeof message !== 'object' || message === null || !(WARM_MESSAGE in message)) return;
      const { [WARM_MESSAGE]: ok, error } = message as { [WARM_MESSAGE]: boolean; error?: string };
      if (!ok) onError(new Error(error));
      else if (++warm >= count) done();
    };
    const onError = (err: unknown) =>
      done(
        new MeridianError(
          'FAILED_PRECONDITION',
          `a model worker thread could not load the model (${err instanceof Error ? err.message : String(err)})`,
          {},
          { cause: err },
        ),
      );
    const timer = setTimeout(
      () =>
        done(
          new MeridianError(
            'UNAVAILABLE',
            `the model's worker threads were not warm after ${timeoutMs} ms; check the serving logs`,
          ),
        ),
      timeoutMs,
    );
    piscina.on('message', onMessage);
    piscina.on('error', onError);
  });
}
