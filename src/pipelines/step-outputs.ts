/**
 * What a finished attempt answers: a function's object checked against its declared outputs, or a
 * command's declared files stored as artifacts under `Runs/{pipeline}/{runId}/{step}/{file}` plus
 * the fields of the JSON object it printed last (how a training script reports its metrics).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MeridianError } from '../core/errors.js';
import type { CommandStep, FunctionStep, StepContext, StepOutput } from './types.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failed(step: string, message: string, hint: string): MeridianError {
  return new MeridianError('FAILED_PRECONDITION', `step ${step}: ${message}; ${hint}`, { step, hint });
}

/** A function step's answer as its checkpoint: an object holding every declared output key. */
export function functionOutput(step: FunctionStep, value: unknown): StepOutput {
  if (value === undefined || value === null) value = {};
  if (!isPlainObject(value)) {
    throw failed(
      step.name,
      `run answered ${Array.isArray(value) ? 'an array' : typeof value}`,
      'answer an object (or nothing)',
    );
  }
  const missing = (step.outputs ?? []).filter((key) => value[key] === undefined);
  if (missing.length > 0) {
    throw failed(
      step.name,
      `run's answer lacks declared outputs ${missing.join(', ')}`,
      'answer an object holding every key in outputs',
    );
  }
  try {
    // Checkpoints are stored as JSON; anything JSON cannot hold would come back different on resume.
    return JSON.parse(JSON.stringify(value)) as StepOutput;
  } catch (err) {
    throw failed(step.name, `run's answer is not JSON (${(err as Error).message})`, 'answer plain data');
  }
}

/** The fields of `line` when it is a JSON object, else none. */
export function jsonFields(line: string | null): Record<string, unknown> {
  const text = line?.trim() ?? '';
  if (!text.startsWith('{')) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Where an attempt's output file is stored: the same on every attempt, so a retry overwrites it. */
export function outputArtifactPath(ctx: StepContext, file: string): string {
  return `Runs/${ctx.pipeline}/${ctx.runId}/${ctx.step}/${file}`;
}

/** Stores each declared file of outputDir as an artifact; the command's checkpoint. */
export async function commandOutput(
  step: CommandStep,
  ctx: StepContext,
  outputDir: string,
  lastStdoutLine: string | null,
): Promise<StepOutput> {
  const files: Record<string, string> = {};
  for (const name of step.outputs ?? []) {
    const local = join(outputDir, name);
    const info = await stat(local).catch(() => null);
    if (!info?.isFile()) {
      const present = await readdir(outputDir, { recursive: true }).catch(() => []);
      throw failed(
        step.name,
        `declared output ${name} was not written (the directory held: ${present.join(', ') || 'nothing'})`,
        `write it to {{outputDir}}/${name} (MERIDIAN_OUTPUT_DIR)`,
      );
    }
  }
  for (const name of step.outputs ?? []) {
    const path = outputArtifactPath(ctx, name);
    await ctx.services.artifact.put(path, createReadStream(join(outputDir, name)));
    files[name] = path;
  }
  return { ...jsonFields(lastStdoutLine), files };
}
