/**
 * A pipeline definition as JSON (`GET /v1/pipelines`, `meridian pipelines list`): its parameters,
 * schedule and steps with their dependencies and policies, without the functions.
 */
import type { ParamSpec, Pipeline, Schedule, Step } from './types.js';

export interface StepDescription {
  name: string;
  kind: 'function' | 'command';
  needs: string[];
  queue: string;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  outputs: string[];
  /** Command steps: the command template. */
  command?: string;
}

export interface PipelineDescription {
  name: string;
  description: string | null;
  params: Record<string, ParamSpec>;
  schedule: Schedule | null;
  steps: StepDescription[];
}

/** Step policies a definition leaves out. */
export const STEP_DEFAULTS = {
  retries: 2,
  retryDelayMs: 1_000,
  timeoutMs: 3_600_000,
  queue: 'default',
} as const;

function describeStep(step: Step): StepDescription {
  return {
    name: step.name,
    kind: 'command' in step ? 'command' : 'function',
    needs: [...(step.needs ?? [])],
    queue: step.queue ?? STEP_DEFAULTS.queue,
    retries: step.retries ?? STEP_DEFAULTS.retries,
    retryDelayMs: step.retryDelayMs ?? STEP_DEFAULTS.retryDelayMs,
    timeoutMs: step.timeoutMs ?? STEP_DEFAULTS.timeoutMs,
    outputs: [...(step.outputs ?? [])],
    ...('command' in step ? { command: step.command } : {}),
  };
}

/** The definition's JSON description, steps in their topological order. */
export function describePipeline(pipeline: Pipeline): PipelineDescription {
  return {
    name: pipeline.name,
    description: pipeline.description ?? null,
    params: pipeline.params,
    schedule: pipeline.schedule ?? null,
    steps: pipeline.order.map((name) => describeStep(pipeline.step(name))),
  };
}
