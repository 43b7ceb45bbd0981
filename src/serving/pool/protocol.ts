/** What the serving thread and a model worker thread exchange. */
import type { ErrorCode, ErrorDetails } from '../../core/errors.js';
import type { Prediction } from '../runtimes/model.js';

/** The key of the message a worker posts once its model is loaded and warmed up. */
export const WARM_MESSAGE = 'meridianModelWarm';

/** What a worker is started with (structured-cloned into each thread). */
export interface WorkerSetup {
  format: string;
  bytes: Uint8Array;
  /** The row the warm-up inference runs on (the main thread's warm-up found it accepted). */
  warmUpRow: number[];
}

/** A prediction, or the error that stopped it with its stable code. */
export type WorkerAnswer =
  | { ok: true; prediction: Prediction; computeMs: number }
  | { ok: false; code: ErrorCode; message: string; details?: ErrorDetails };
