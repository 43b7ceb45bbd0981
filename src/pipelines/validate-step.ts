/**
 * The checks definePipeline makes on one step: its kind, needs, policies, outputs, and for a command
 * its syntax, its program and its templates. Errors name `steps.NAME.FIELD`.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalidArgument } from '../core/errors.js';
import { validateArtifactPath } from '../stores/artifact/artifact-path.js';
import { CommandSyntaxError, findExecutable, splitCommand } from './command.js';
import { templateRefs, templateShapeProblem } from './template.js';
import type { CommandStep, ParamSpec, Step } from './types.js';

export interface StepScope {
  byName: ReadonlyMap<string, Step>;
  params: Record<string, ParamSpec>;
}

const KNOWN_KEYS = new Set([
  'name',
  'needs',
  'retries',
  'retryDelayMs',
  'timeoutMs',
  'outputs',
  'queue',
  'run',
  'command',
  'env',
  'cwd',
]);
const QUEUE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DAY_MS = 86_400_000;

/** Throws INVALID_ARGUMENT naming the step and field when the step is not runnable as defined. */
export function validateStep(step: Step, scope: StepScope): void {
  const at = `steps.${step.name}`;
  for (const key of Object.keys(step)) {
    if (!KNOWN_KEYS.has(key))
      throw invalidArgument(`${at}.${key}`, 'is not a step setting', `use ${[...KNOWN_KEYS].join(', ')}`);
  }
  checkKind(step, at);
  for (const need of step.needs ?? []) {
    if (need === step.name)
      throw invalidArgument(`${at}.needs`, `names the step itself; steps form a cycle: ${need} -> ${need}`);
    if (!scope.byName.has(need)) {
      throw invalidArgument(
        `${at}.needs`,
        `names unknown step ${JSON.stringify(need)}`,
        `define it or use one of: ${[...scope.byName.keys()].join(', ')}`,
      );
    }
  }
  checkInteger(`${at}.retries`, step.retries, 0, 100);
  checkInteger(`${at}.retryDelayMs`, step.retryDelayMs, 0, DAY_MS);
  checkInteger(`${at}.timeoutMs`, step.timeoutMs, 1, 7 * DAY_MS);
  if (step.queue !== undefined && !(typeof step.queue === 'string' && QUEUE.test(step.queue))) {
    throw invalidArgument(
      `${at}.queue`,
      `${JSON.stringify(step.queue)} is not a valid queue name`,
      'use letters, digits, "-" and "_"',
    );
  }
  checkOutputs(step, at);
  if ('command' in step) checkCommand(step, at, scope);
}

function checkKind(step: Step, at: string): void {
  const isFunction = 'run' in step && step.run !== undefined;
  const isCommand = 'command' in step && step.command !== undefined;
  if (isFunction === isCommand) {
    throw invalidArgument(
      at,
      isFunction ? 'has both run and command' : 'has neither run nor command',
      'give a step either a run function or a command',
    );
  }
  if (isFunction && typeof (step as { run: unknown }).run !== 'function')
    throw invalidArgument(`${at}.run`, 'must be a function');
  if (isCommand && typeof (step as CommandStep).command !== 'string')
    throw invalidArgument(`${at}.command`, 'must be a string');
}

function checkInteger(field: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
    throw invalidArgument(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function checkOutputs(step: Step, at: string): void {
  if (step.outputs === undefined) return;
  if (!Array.isArray(step.outputs)) throw invalidArgument(`${at}.outputs`, 'must be an array of names');
  const seen = new Set<string>();
  for (const output of step.outputs) {
    if (typeof output !== 'string' || output === '')
      throw invalidArgument(`${at}.outputs`, 'must hold non-empty names');
    if (seen.has(output))
      throw invalidArgument(`${at}.outputs`, `names ${JSON.stringify(output)} twice; outputs must be unique`);
    seen.add(output);
    // A command's outputs are files under its output directory, stored under their own names.
    if ('command' in step) validateArtifactPath(output, `${at}.outputs`);
  }
}

function checkCommand(step: CommandStep, at: string, scope: StepScope): void {
  let args: string[];
  try {
    args = splitCommand(step.command);
  } catch (err) {
    if (err instanceof CommandSyntaxError)
      throw invalidArgument(`${at}.command`, err.message, 'close every quote');
    throw err;
  }
  if (args.length === 0)
    throw invalidArgument(`${at}.command`, 'is empty', 'name the program to run, e.g. python3 train.py');
  const cwd = checkCwd(step, at);
  const env = checkEnv(step, at);
  for (const arg of args) checkTemplates(arg, `${at}.command`, step, scope);
  for (const [name, value] of Object.entries(env)) checkTemplates(value, `${at}.env.${name}`, step, scope);
  const program = args[0] as string;
  if (program.includes('{{')) return;
  if (!findExecutable(program, cwd, env.PATH ?? process.env.PATH)) {
    const where = program.includes('/') ? `at ${resolve(cwd, program)}` : 'on PATH';
    throw invalidArgument(
      `${at}.command`,
      `program ${JSON.stringify(program)} was not found ${where}`,
      'install it or give the path of an executable file',
    );
  }
}

function checkCwd(step: CommandStep, at: string): string {
  if (step.cwd === undefined) return process.cwd();
  if (typeof step.cwd !== 'string') throw invalidArgument(`${at}.cwd`, 'must be a directory path');
  const dir = resolve(step.cwd);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw invalidArgument(`${at}.cwd`, `${dir} is not an existing directory`);
  return dir;
}

function checkEnv(step: CommandStep, at: string): Record<string, string> {
  if (step.env === undefined) return {};
  if (typeof step.env !== 'object' || step.env === null)
    throw invalidArgument(`${at}.env`, 'must be an object of strings');
  for (const [name, value] of Object.entries(step.env)) {
    if (!ENV_NAME.test(name))
      throw invalidArgument(`${at}.env.${name}`, 'is not a valid environment variable name');
    if (typeof value !== 'string')
      throw invalidArgument(`${at}.env.${name}`, `must be a string, got ${typeof value}`);
  }
  return step.env;
}

function checkTemplates(text: string, field: string, step: Step, scope: StepScope): void {
  for (const ref of templateRefs(text, field)) {
    const shape = templateShapeProblem(ref);
    if (shape)
      throw invalidArgument(
        field,
        shape,
        'use {{logicalDate}}, {{runId}}, {{attempt}}, {{outputDir}}, {{params.NAME}} or {{inputs.STEP.KEY}}',
      );
    const [root, name, ...key] = ref.path as [string, string, ...string[]];
    if (root === 'params' && !Object.hasOwn(scope.params, name)) {
      const known = Object.keys(scope.params);
      throw invalidArgument(
        field,
        `${ref.source} names unknown parameter ${JSON.stringify(name)}`,
        known.length ? `declare it or use one of: ${known.join(', ')}` : 'declare it in params',
      );
    }
    if (root === 'inputs') checkInputRef(ref.source, name, key, field, step, scope);
  }
}

function checkInputRef(
  source: string,
  name: string,
  key: string[],
  field: string,
  step: Step,
  scope: StepScope,
): void {
  if (!(step.needs ?? []).includes(name)) {
    const problem = scope.byName.has(name)
      ? `names step ${JSON.stringify(name)}, which is not in needs`
      : `names unknown step ${JSON.stringify(name)}`;
    throw invalidArgument(field, `${source} ${problem}`, `add ${name} to steps.${step.name}.needs`);
  }
  const upstream = scope.byName.get(name) as Step;
  // Only a command's files are known before it runs; other keys come from what the step answers.
  if (!('command' in upstream) || key[0] !== 'files') return;
  const file = key.slice(1).join('.');
  if (!(upstream.outputs ?? []).includes(file)) {
    throw invalidArgument(
      field,
      `${source} names file ${JSON.stringify(file)}, which step ${name} does not declare in outputs`,
      `declare it in steps.${name}.outputs`,
    );
  }
}
