/** The built-in pipelines: every orchestrator and every worker registers them, so any worker can run their steps. */
import type { Pipeline } from '../types.js';
import { driftCheckPipeline } from './drift-check.js';
import { materializePipeline } from './materialize.js';
import { trainPipeline } from './train.js';

/** materialize, train and drift-check. */
export function builtinPipelines(): Pipeline[] {
  return [materializePipeline(), trainPipeline(), driftCheckPipeline()];
}
