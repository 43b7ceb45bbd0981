/**
 * definePipeline: checks a pipeline definition when its module loads, so a cycle, a step naming an
 * unknown step, a bad cron expression, a missing program or a mistyped default is reported then,
 * with the offending name, and never halfway through a run.
 */
import { invalidArgument, MeridianError } from '../core/errors.js';
import { PARAM_TYPES, paramValueProblem } from './params.js';
import { cronOf } from './schedule.js';
import type { ParamSpec, Pipeline, PipelineSpec, Schedule, Step } from './types.js';
import { validateStep } from './validate-step.js';

/** Lowercase letters, digits, `-` and `_`: safe in artifact paths, queue names and templates. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NAME_HINT = 'use 1-63 lowercase letters, digits, "-" and "_", starting with a letter or digit';
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Marks definePipeline results so a module loader recognises them among a module's exports. */
const PIPELINE = Symbol.for('meridian.pipeline');

/** Whether x came from definePipeline (in this or another copy of this module). */
export function isPipeline(x: unknown): x is Pipeline {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PIPELINE] === true;
}

/** A checked, frozen pipeline with its steps in topological order; INVALID_ARGUMENT naming the problem. */
export function definePipeline(spec: PipelineSpec): Pipeline {
  if (typeof spec !== 'object' || spec === null) throw invalidArgument('pipeline', 'must be an object');
  checkName('name', spec.name);
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    throw invalidArgument('description', 'must be a string');
  }
  const params = checkParams(spec.params);
  if (spec.schedule !== undefined) checkSchedule(spec.schedule);
  const steps = Object.freeze(checkSteps(spec.steps));
  const byName = new Map(steps.map((s) => [s.name, s]));
  for (const step of steps) validateStep(step, { byName, params });
  const order = topologicalOrder(steps);
  const pipeline = {
    ...spec,
    params,
    steps,
    order,
    step(name: string): Step {
      const found = byName.get(name);
      if (!found) {
        throw new MeridianError('NOT_FOUND', `pipeline ${spec.name} has no step ${JSON.stringify(name)}`, {
          field: 'step',
          hint: `its steps are: ${order.join(', ')}`,
        });
      }
      return found;
    },
    [PIPELINE]: true,
  };
  return Object.freeze(pipeline);
}

function checkName(field: string, name: unknown): void {
  if (typeof name !== 'string')
    throw invalidArgument(field, `must be a string, got ${typeof name}`, NAME_HINT);
  if (!NAME_PATTERN.test(name))
    throw invalidArgument(field, `${JSON.stringify(name)} is not a valid name`, NAME_HINT);
}

function checkParams(params: PipelineSpec['params']): Record<string, ParamSpec> {
  if (params === undefined) return Object.freeze({});
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw invalidArgument('params', 'must be an object of parameter specs by name');
  }
  for (const [name, spec] of Object.entries(params)) {
    const field = `params.${name}`;
    if (!PARAM_NAME.test(name)) {
      throw invalidArgument(
        field,
        `${JSON.stringify(name)} is not a valid parameter name`,
        'use letters, digits and "_"',
      );
    }
    if (!PARAM_TYPES.includes(spec?.type)) {
      throw invalidArgument(
        `${field}.type`,
        `must be one of ${PARAM_TYPES.join(', ')}, got ${JSON.stringify(spec?.type)}`,
      );
    }
    if (spec.default !== undefined) {
      const problem = paramValueProblem(spec, spec.default);
      if (problem) throw invalidArgument(`${field}.default`, problem, `give a ${spec.type} default or none`);
    }
  }
  return Object.freeze({ ...params });
}

function checkSchedule(schedule: Schedule): void {
  if (typeof schedule !== 'object' || schedule === null)
    throw invalidArgument('schedule', 'must be an object');
  if (typeof schedule.cron !== 'string')
    throw invalidArgument('schedule.cron', 'must be a string, e.g. "0 3 * * *"');
  // The scheduler reads the schedule through the same function, so what passes here runs there.
  cronOf(schedule).stop();
  if (schedule.catchup !== undefined && typeof schedule.catchup !== 'boolean') {
    throw invalidArgument('schedule.catchup', 'must be true or false');
  }
  const max = schedule.maxCatchup;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 100_000)) {
    throw invalidArgument('schedule.maxCatchup', `must be an integer from 1 to 100000, got ${max}`);
  }
}

function checkSteps(steps: unknown): Step[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw invalidArgument('steps', 'must be a non-empty array of steps');
  }
  const seen = new Set<string>();
  return steps.map((step: Step, i) => {
    if (typeof step !== 'object' || step === null)
      throw invalidArgument(`steps[${i}]`, 'must be a step object');
    checkName(`steps[${i}].name`, step.name);
    if (seen.has(step.name)) {
      throw invalidArgument(
        `steps.${step.name}`,
        `is defined twice; step names must be unique`,
        'rename one of them',
      );
    }
    seen.add(step.name);
    if (
      step.needs !== undefined &&
      !(Array.isArray(step.needs) && step.needs.every((n) => typeof n === 'string'))
    ) {
      throw invalidArgument(`steps.${step.name}.needs`, 'must be an array of step names');
    }
    // Keys set to undefined are left out, so `'command' in step` tells the kinds apart.
    const given = Object.fromEntries(Object.entries(step).filter(([, v]) => v !== undefined)) as Step;
    return Object.freeze({
      ...given,
      ...(step.needs ? { needs: Object.freeze([...step.needs]) } : {}),
      ...(Array.isArray(step.outputs) ? { outputs: Object.freeze([...step.outputs]) } : {}),
    });
  });
}

/** Step names, each after the steps it needs, otherwise in definition order; names a cycle if there is one. */
function topologicalOrder(steps: readonly Step[]): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < steps.length) {
    const ready = steps.find((s) => !done.has(s.name) && (s.needs ?? []).every((n) => done.has(n)));
    if (!ready) {
      const cycle = findCycle(steps.filter((s) => !done.has(s.name)));
      throw invalidArgument(
        `steps.${cycle[0]}.needs`,
        `steps form a cycle: ${cycle.join(' -> ')}`,
        'remove one of these needs so the steps form a DAG',
      );
    }
    done.add(ready.name);
    order.push(ready.name);
  }
  return order;
}

/** A cycle among steps none of which can start: follow needs until a name repeats. */
function findCycle(blocked: readonly Step[]): string[] {
  const byName = new Map(blocked.map((s) => [s.name, s]));
  const path: string[] = [];
  let current = blocked[0] as Step;
  while (!path.includes(current.name)) {
    path.push(current.name);
    const next = (current.needs ?? []).find((n) => byName.has(n)) as string;
    current = byName.get(next) as Step;
  }
  return [...path.slice(path.indexOf(current.name)), current.name];
}
