/**
 * How the serving APIs (OIP v2 over REST and gRPC, hydrated predictions) find the model that
 * answers a request. The model registry implements it: it loads each version once, warms it up with
 * one inference and only then reports it ready, and follows promotions made by any replica.
 */
import type { LoadedModel } from './runtimes/model.js';

/** A version of a registered model, loaded and warmed up. */
export interface ServedModel {
  name: string;
  version: number;
  /** The version's input column names in order (from `inputs` at push, or the model file). */
  inputs?: string[];
  /** The feature service it consumes, for hydrated predictions. */
  featureService?: string;
  model: LoadedModel;
}

export interface ModelResolver {
  /**
   * The production version of `name`, or exactly `version`. NOT_FOUND names the model or version and
   * how to list them; UNAVAILABLE when it exists but is still loading.
   */
  resolve(name: string, version?: number): Promise<ServedModel>;
  /** Whether `resolve` would answer now without loading. */
  isReady(name: string, version?: number): Promise<boolean>;
  /** Names of models with a version answering by default (production). */
  served(): Promise<string[]>;
}
