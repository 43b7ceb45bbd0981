/**
 * The orchestrator's contracts: what a pipeline definition holds (steps forming a DAG, typed
 * parameters, an optional schedule), what a step is given when it runs, and the shapes of runs and
 * steps as the REST API, the CLI and gRPC answer them.
 */
import type { Logger } from '../core/logger.js';
import type { ArtifactStore } from '../stores/artifact/port.js';
import type { StateStore } from '../stores/state/port.js';

/** The JSON types a parameter can take; values are checked against them at definition and at trigger. */
export type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface ParamSpec {
  type: ParamType;
  /** Used when a trigger leaves the parameter out; a parameter without one is required. */
  default?: unknown;
  description?: string;
}

/** JSON a step answers: its checkpoint, handed to the steps that need it and kept for resume. */
export type StepOutput = Record<string, unknown>;

/** What a running step is given. */
export interface StepContext {
  runId: string;
  pipeline: string;
  step: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** The run's parameters, defaults applied. */
  params: Record<string, unknown>;
  logicalDate: Date;
  /** The outputs of the steps this one needs, by step name. */
  inputs: Record<string, StepOutput>;
  /** The same on every attempt of this step of this run: side effects keyed by it happen once. */
  idempotencyKey: string;
  /** Lines logged here are also kept in the run's log. */
  logger: Logger;
  /** Tells the orchestrator the step is alive; called automatically while the step runs. */
  heartbeat(): Promise<void>;
  /** Aborted when the step times out or the worker shuts down. */
  signal: AbortSignal;
  services: StepServices;
}

/** What steps reach the platform through: its stores and its public API. */
export interface StepServices {
  state: StateStore;
  artifact: ArtifactStore;
  /** The platform's REST base URL (`pipelines.apiUrl`), for steps that use the other services. */
  apiUrl: string;
}

interface StepBase {
  name: string;
  /** Steps that must complete first; their outputs become this step's inputs. */
  needs?: readonly string[];
  /** Attempts after the first one; default 2. */
  retries?: number;
  /** Delay before the first retry, doubled per attempt with jitter; default 1000. */
  retryDelayMs?: number;
  /** An attempt running longer is stopped and counts as failed; default 1 hour. */
  timeoutMs?: number;
  /**
   * Function steps: keys the output object must hold. Command steps: files the command must write
   * into `{{outputDir}}`, stored as artifacts; the output maps each file name to its artifact path.
   */
  outputs?: readonly string[];
  /** The worker queue the step runs on (`meridian worker --queues`); default `default`. */
  queue?: string;
}

/** A TypeScript function run in a worker. */
export interface FunctionStep extends StepBase {
  // biome-ignore lint/suspicious/noConfusingVoidType: a step with nothing to hand on is a plain async function returning Promise<void>
  run: (ctx: StepContext) => Promise<StepOutput | undefined | void>;
}

/**
 * A child process, e.g. `python3 train.py --date {{logicalDate}} --out {{outputDir}}`: split into
 * arguments like a shell would (quotes, no expansion), templated, run without a shell; stdout and
 * stderr go into the run's log. Templates: `{{logicalDate}}`, `{{runId}}`, `{{attempt}}`,
 * `{{outputDir}}`, `{{params.NAME}}`, `{{inputs.STEP.KEY}}`.
 */
export interface CommandStep extends StepBase {
  command: string;
  env?: Record<string, string>;
  cwd?: string;
}

export type Step = FunctionStep | CommandStep;

export interface Schedule {
  /** Five or six fields (seconds first when six), as croner reads them. */
  cron: string;
  /** IANA time zone the expression is read in; default UTC. */
  timezone?: string;
  /** Whether ticks missed while no scheduler ran are run on start (oldest first); default false. */
  catchup?: boolean;
  /** At most this many missed ticks are caught up (the newest ones); default 100. */
  maxCatchup?: number;
}

export interface PipelineSpec {
  name: string;
  description?: string;
  params?: Record<string, ParamSpec>;
  schedule?: Schedule;
  steps: readonly Step[];
}

/** A validated definition (definePipeline): steps in a topological order. */
export interface Pipeline extends PipelineSpec {
  readonly params: Record<string, ParamSpec>;
  /** Step names, each after every step it needs. */
  readonly order: readonly string[];
  step(name: string): Step;
}

export type RunStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';

/** A step not reached because a step it needs failed is UPSTREAM_FAILED (Airflow's state). */
export type StepStatus = RunStatus | 'UPSTREAM_FAILED';

/** Who started a run. */
export interface TriggerInfo {
  kind: 'api' | 'cli' | 'grpc' | 'schedule' | 'backfill' | 'alert' | 'pipeline';
  /** E.g. the alert's fingerprint, the user, the backfill's range. */
  detail?: string;
}

export interface TriggerRequest {
  params?: Record<string, unknown>;
  /** Default: now. */
  logicalDate?: Date;
  /** Starts a new run even when the key already has one running or completed. */
  force?: boolean;
  trigger?: TriggerInfo;
}

/** `POST /v1/pipelines/{name}/runs` answers this; `created` is false when the key already had a run. */
export interface TriggerResult {
  runId: string;
  status: RunStatus;
  created: boolean;
}

export interface StepView {
  name: string;
  status: StepStatus;
  attempts: number;
  /** The last attempt's error: `attempt N: message`. */
  error: string | null;
  queue: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** The checkpoint a completed step answered. */
  output: StepOutput | null;
}

/** `GET /v1/runs/{runId}` answers this. */
export interface RunView {
  runId: string;
  pipeline: string;
  status: RunStatus;
  params: Record<string, unknown>;
  logicalDate: string;
  /** The idempotency key: a hash of the pipeline, its parameters and the logical date. */
  key: string;
  trigger: TriggerInfo;
  /** Which step failed, on which attempt, and why. */
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: StepView[];
}

export interface LogLine {
  seq: number;
  time: string;
  step: string;
  attempt: number;
  stream: 'stdout' | 'stderr' | 'log';
  line: string;
}

export interface RunFilter {
  pipeline?: string;
  status?: RunStatus;
  /** Newest first; default 50, at most 1000. */
  limit?: number;
}

/** The orchestrator as the APIs, the CLI, the scheduler and alert triggers use it. */
export interface Orchestrator {
  /** Adds (or replaces) a definition in this process's catalog; workers need the same catalog. */
  register(pipeline: Pipeline): void;
  pipelines(): readonly Pipeline[];
  /** Starts a run unless the key has one running or completed (then answers it, created false). */
  trigger(pipeline: string, request?: TriggerRequest): Promise<TriggerResult>;
  /** NOT_FOUND when there is no such run. */
  run(runId: string): Promise<RunView>;
  runs(filter?: RunFilter): Promise<RunView[]>;
  /** Reruns a failed run's failed and later steps; completed steps keep their checkpoints. */
  resume(runId: string): Promise<RunView>;
  logs(runId: string, options?: { step?: string; afterSeq?: number; limit?: number }): Promise<LogLine[]>;
}

/** Where a running step's lines go (the run log). */
export interface LogSink {
  write(stream: LogLine['stream'], line: string): void;
}

/** Runs one attempt of a step in this process: a function or a child process, under its timeout. */
export type StepExecutor = (step: Step, ctx: StepContext, log: LogSink) => Promise<StepOutput>;
