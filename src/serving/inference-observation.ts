/**
 * What the inference surfaces report about each request, for latency statistics and the prediction
 * log. Observers run on the request path, so they only record in memory and never wait on I/O.
 */
import type { InputBatch, Prediction } from './runtimes/model.js';

/** The API a request came through: OIP v2 REST, OIP v2 gRPC, or the hydrated predict route. */
export type InferenceProtocol = 'rest' | 'grpc' | 'predict';

/** One inference request against a resolved model version. */
export interface InferenceObservation {
  requestId: string;
  model: string;
  version: number;
  protocol: InferenceProtocol;
  /** When the request started, epoch milliseconds. */
  time: number;
  /** From resolving the model to having the prediction (response encoding excluded). */
  requestSeconds: number;
  /** Time inside the model's predict; undefined when the request failed before predicting. */
  computeSeconds?: number;
  ok: boolean;
  /** The decoded input rows and what the model answered for them, when the request succeeded. */
  batch?: InputBatch;
  prediction?: Prediction;
  featureNames?: string[];
  classLabels?: (number | string)[];
  /** Entity key columns, one value per row, for hydrated predictions. */
  entityKeys?: Record<string, readonly unknown[]>;
}

export interface InferenceObserver {
  /** Records one request; must return quickly and never throw. */
  observe(observation: InferenceObservation): void;
}

/** One observer that tells each of `observers` in turn, so one failing never hides the others. */
export function observeAll(...observers: (InferenceObserver | undefined)[]): InferenceObserver {
  const present = observers.filter((o): o is InferenceObserver => o !== undefined);
  return {
    observe(observation) {
      for (const observer of present) {
        try {
          observer.observe(observation);
        } catch {
          // An observer's bug must never fail the request it observes.
        }
      }
    },
  };
}
