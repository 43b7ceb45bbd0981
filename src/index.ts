/** Meridian's public TypeScript API: the REST client and pipeline definitions. */

export { definePipeline, isPipeline } from './pipelines/define.js';
export type {
  CommandStep,
  FunctionStep,
  ParamSpec,
  Pipeline,
  PipelineSpec,
  Schedule,
  Step,
  StepContext,
  StepOutput,
} from './pipelines/types.js';
export { MeridianClient, type MeridianClientOptions } from './sdk/client.js';
