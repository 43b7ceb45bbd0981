/**
 * One thread of a version's worker pool (piscina). Its default export is a promise of the handler:
 * piscina awaits it before the thread reports ready, so the model is loaded and has run its warm-up
 * inference before the thread takes a task. The thread then tells the pool it is warm (or why not).
 * No top-level await: piscina may first try `require()` on this module, which refuses async modules.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isMeridianError } from '../../core/errors.js';
import { loadModel } from '../runtimes/index.js';
import type { InputBatch, LoadedModel, ModelFormat } from '../runtimes/model.js';
import { WARM_MESSAGE, type WorkerAnswer, type WorkerSetup } from './protocol.js';

type Handler = (batch: InputBatch) => Promise<WorkerAnswer>;

const setup = workerData as WorkerSetup;

async function start(): Promise<LoadedModel> {
  const model = await loadModel(setup.format as ModelFormat, setup.bytes);
  await model.predict({ rows: 1, values: new Float64Array(setup.warmUpRow) });
  return model;
}

function answerError(err: unknown): WorkerAnswer {
  if (isMeridianError(err)) return { ok: false, code: err.code, message: err.message, details: err.details };
  return { ok: false, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

const handler: Promise<Handler> = start().then(
  (model) => {
    parentPort?.postMessage({ [WARM_MESSAGE]: true });
    return async (batch) => {
      try {
        const started = performance.now();
        const prediction = await model.predict(batch);
        return { ok: true, prediction, computeMs: performance.now() - started };
      } catch (err) {
        return answerError(err);
      }
    };
  },
  (err: unknown) => {
    parentPort?.postMessage({
      [WARM_MESSAGE]: false,
      error: err instanceof Error ? err.message : String(err),
    });
    const failure = answerError(err);
    return async () => failure;
  },
);

/** Predicts one batch; errors travel back as data so their code survives the thread boundary. */
export default handler;
