/**
 * Runs one attempt of a step in this process, under its timeout: a function is raced against its
 * deadline (so one that ignores its abort signal still fails on time), a command is stopped (SIGTERM,
 * then SIGKILL) at it. The step heartbeats while it runs.
 */
import { tmpdir } from 'node:os';
import { MeridianError } from '../core/errors.js';
import { runCommandStep } from './command-step.js';
import { STEP_DEFAULTS } from './describe.js';
import { functionOutput } from './step-outputs.js';
import type { FunctionStep, Step, StepContext, StepExecutor, StepOutput } from './types.js';

export interface StepExecutorOptions {
  /** How often the executor calls ctx.heartbeat() while a step runs; 0 leaves it to the caller. Default 5000. */
  heartbeatMs?: number;
  /** How long a stopped command has between SIGTERM and SIGKILL. Default 5000. */
  killGraceMs?: number;
  /** Where per-attempt output directories are made. Default: the OS temp directory. */
  tempDir?: string;
}

/** The error an attempt fails with when it outlives its step's timeout. */
export function deadlineExceeded(step: string, timeoutMs: number): MeridianError {
  return new MeridianError(
    'DEADLINE_EXCEEDED',
    `step ${step} timed out after ${timeoutMs} ms; make it faster or raise steps.${step}.timeoutMs`,
    { step, timeoutMs, field: `steps.${step}.timeoutMs` },
  );
}

function stopped(step: string, reason: unknown): MeridianError {
  if (reason instanceof MeridianError) return reason;
  const why = reason instanceof Error ? reason.message : String(reason ?? 'aborted');
  return new MeridianError('UNAVAILABLE', `step ${step} was stopped before it finished (${why})`, { step });
}

/** A signal aborted at the step's deadline or when ctx.signal aborts, with a MeridianError as reason. */
function attemptSignal(step: Step, ctx: StepContext): { signal: AbortSignal; dispose(): void } {
  const timeoutMs = step.timeoutMs ?? STEP_DEFAULTS.timeoutMs;
  const controller = new AbortController();
  const onOuter = (): void => controller.abort(stopped(step.name, ctx.signal.reason));
  const timer = setTimeout(() => controller.abort(deadlineExceeded(step.name, timeoutMs)), timeoutMs);
  if (ctx.signal.aborted) onOuter();
  else ctx.signal.addEventListener('abort', onOuter, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onOuter);
    },
  };
}

async function runFunctionStep(
  step: FunctionStep,
  ctx: StepContext,
  signal: AbortSignal,
): Promise<StepOutput> {
  let onAbort = (): void => {};
  const abandoned = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const value = await Promise.race([Promise.resolve().then(() => step.run({ ...ctx, signal })), abandoned]);
    return functionOutput(step, value);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function startHeartbeat(ctx: StepContext, everyMs: number): () => void {
  if (everyMs <= 0) return () => {};
  const timer = setInterval(() => {
    ctx.heartbeat().catch((err: unknown) => {
      ctx.logger.warn({ err, runId: ctx.runId, step: ctx.step }, 'step heartbeat failed');
    });
  }, everyMs);
  return () => clearInterval(timer);
}

/** A StepExecutor with these settings. */
export function createStepExecutor(options: StepExecutorOptions = {}): StepExecutor {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const killGraceMs = options.killGraceMs ?? 5_000;
  const tempDir = options.tempDir ?? tmpdir();
  return async (step, ctx, log) => {
    const attempt = attemptSignal(step, ctx);
    const stopHeartbeat = startHeartbeat(ctx, heartbeatMs);
    try {
      if ('command' in step) {
        return await runCommandStep(step, ctx, log, { tempDir, killGraceMs, signal: attempt.signal });
      }
      return await runFunctionStep(step, ctx, attempt.signal);
    } finally {
      stopHeartbeat();
      attempt.dispose();
    }
  };
}

/** Runs one attempt with the default settings (heartbeat every 5 s, 5 s between SIGTERM and SIGKILL). */
export const executeStep: StepExecutor = createStepExecutor();
