/**
 * One attempt of a command step: its command split and templated, run without a shell in a fresh
 * output directory with the run's environment and local copies of the upstream files it names, its
 * lines sent to the run log, its declared files stored as artifacts. Its directory is removed
 * afterwards whatever happened.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MeridianError } from '../core/errors.js';
import { findExecutable, splitCommand } from './command.js';
import { localizeInputFiles } from './command-inputs.js';
import { type ProcessResult, runProcess } from './command-process.js';
import { commandOutput } from './step-outputs.js';
import { renderTemplate, type TemplateValues } from './template.js';
import type { CommandStep, LogSink, StepContext, StepOutput } from './types.js';

export interface CommandRunOptions {
  /** Where per-attempt output directories are made. */
  tempDir: string;
  killGraceMs: number;
  /** Aborted at the step's timeout or when the worker stops. */
  signal: AbortSignal;
}

/** Runs the command to its end and answers its checkpoint; rejects naming the step and why. */
export async function runCommandStep(
  step: CommandStep,
  ctx: StepContext,
  log: LogSink,
  options: CommandRunOptions,
): Promise<StepOutput> {
  const attemptDir = await mkdtemp(join(options.tempDir, 'meridian-step-'));
  const outputDir = join(attemptDir, 'out');
  try {
    await mkdir(outputDir);
    const words = splitCommand(step.command);
    const texts = [...words, ...Object.values(step.env ?? {})];
    const inputs = await localizeInputFiles(texts, ctx.inputs, ctx.services.artifact, join(attemptDir, 'in'));
    const values = { ...templateValues(ctx, outputDir), inputs };
    const [program, ...args] = words.map((word) =>
      renderTemplate(word, values, `steps.${step.name}.command`),
    ) as [string, ...string[]];
    const env = environment(step, ctx, values);
    const cwd = resolve(step.cwd ?? process.cwd());
    const file = findExecutable(program, cwd, env.PATH);
    if (!file) throw programNotFound(step.name, program);
    log.write('log', `running ${JSON.stringify([program, ...args])} in ${cwd}`);
    const result = await runProcess(file, args, {
      cwd,
      env,
      argv0: program,
      signal: options.signal,
      killGraceMs: options.killGraceMs,
      onLine: (stream, line) => log.write(stream, line),
    }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw programNotFound(step.name, program);
      throw err;
    });
    if (result.code !== 0) throw exitError(step.name, result);
    return await commandOutput(step, ctx, outputDir, result.lastStdoutLine);
  } finally {
    await rm(attemptDir, { recursive: true, force: true });
  }
}

function templateValues(ctx: StepContext, outputDir: string): TemplateValues {
  const { logicalDate, runId, attempt, pipeline, step, idempotencyKey, params, inputs } = ctx;
  return { logicalDate, runId, attempt, outputDir, pipeline, step, idempotencyKey, params, inputs };
}

function environment(step: CommandStep, ctx: StepContext, values: TemplateValues): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(step.env ?? {})) {
    env[name] = renderTemplate(value, values, `steps.${step.name}.env.${name}`);
  }
  return {
    ...env,
    MERIDIAN_PIPELINE: ctx.pipeline,
    MERIDIAN_RUN_ID: ctx.runId,
    MERIDIAN_STEP: ctx.step,
    MERIDIAN_ATTEMPT: String(ctx.attempt),
    MERIDIAN_LOGICAL_DATE: ctx.logicalDate.toISOString(),
    MERIDIAN_OUTPUT_DIR: values.outputDir,
    MERIDIAN_IDEMPOTENCY_KEY: ctx.idempotencyKey,
    MERIDIAN_API_URL: ctx.services.apiUrl,
  };
}

function programNotFound(step: string, program: string): MeridianError {
  const where = program.includes('/') ? `at ${program}` : 'on PATH';
  return new MeridianError(
    'FAILED_PRECONDITION',
    `step ${step}: program ${JSON.stringify(program)} was not found ${where} on this worker; install it or fix steps.${step}.command`,
    { step, program },
  );
}

function exitError(step: string, result: ProcessResult): MeridianError {
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  const tail = result.stderrTail.length
    ? `; last stderr lines:\n${result.stderrTail.join('\n')}`
    : '; it wrote nothing to stderr';
  return new MeridianError('INTERNAL', `step ${step}: command ${how}${tail}`, {
    step,
    exitCode: result.code,
    signal: result.signal,
  });
}
