/**
 * `{{...}}` templates in command steps: `{{logicalDate}}` (ISO 8601), `{{runId}}`, `{{attempt}}`,
 * `{{outputDir}}`, `{{pipeline}}`, `{{step}}`, `{{idempotencyKey}}`, `{{params.NAME}}` and
 * `{{inputs.STEP.KEY}}` (KEY a dotted path into that step's output, e.g. `files.model.json`).
 * Templates are filled in after the command is split, so a value never splits into more arguments.
 * In a command, `{{inputs.STEP.files.NAME}}` is the path of a local copy of that stored file.
 */
import { invalidArgument } from '../core/errors.js';
import type { StepOutput } from './types.js';

/** The plain names a template may use, besides `params.*` and `inputs.*`. */
export const TEMPLATE_NAMES = [
  'logicalDate',
  'runId',
  'attempt',
  'outputDir',
  'pipeline',
  'step',
  'idempotencyKey',
] as const;

const HINT = `use {{${TEMPLATE_NAMES.join('}}, {{')}}}, {{params.NAME}} or {{inputs.STEP.KEY}}`;

/** One `{{...}}` in a text: its source and its dotted path. */
export interface TemplateRef {
  source: string;
  path: string[];
}

export interface TemplateValues {
  logicalDate: Date;
  runId: string;
  attempt: number;
  outputDir: string;
  pipeline: string;
  step: string;
  idempotencyKey: string;
  params: Record<string, unknown>;
  inputs: Record<string, StepOutput>;
}

const REF = /\{\{([^{}]*)\}\}/g;

/** The templates in `text`; INVALID_ARGUMENT naming `field` when one is empty or not closed. */
export function templateRefs(text: string, field: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const match of text.matchAll(REF)) {
    const expression = (match[1] as string).trim();
    const path = expression.split('.');
    if (expression === '' || path.some((p) => p === '')) {
      throw invalidArgument(field, `has an incomplete template ${JSON.stringify(match[0])}`, HINT);
    }
    refs.push({ source: match[0], path });
  }
  const rest = text.replace(REF, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    throw invalidArgument(field, 'has a "{{" or "}}" that does not form a template', HINT);
  }
  return refs;
}

/** Whether a template's path starts with a name templates know, and has the parts that name needs. */
export function templateShapeProblem(ref: TemplateRef): string | null {
  const [root, ...rest] = ref.path;
  if (root === 'params') return rest.length === 1 ? null : `${ref.source} must be {{params.NAME}}`;
  if (root === 'inputs') return rest.length >= 2 ? null : `${ref.source} must be {{inputs.STEP.KEY}}`;
  if ((TEMPLATE_NAMES as readonly string[]).includes(root as string)) {
    return rest.length === 0 ? null : `${ref.source} has parts after ${root}`;
  }
  return `${ref.source} is not a known template`;
}

/** `text` with every template replaced; INVALID_ARGUMENT naming `field` and the template otherwise. */
export function renderTemplate(text: string, values: TemplateValues, field: string): string {
  const refs = templateRefs(text, field);
  if (refs.length === 0) return text;
  return text.replace(REF, (source) => {
    const ref = refs.find((r) => r.source === source) as TemplateRef;
    const shape = templateShapeProblem(ref);
    if (shape) throw invalidArgument(field, shape, HINT);
    const value = lookup(ref.path, values);
    if (value === undefined)
      throw invalidArgument(field, `${source} has no value in this run`, missingHint(ref, values));
    return format(value);
  });
}

function lookup(path: string[], values: TemplateValues): unknown {
  const [root, ...rest] = path;
  if (root === 'params')
    return Object.hasOwn(values.params, rest[0] as string) ? values.params[rest[0] as string] : undefined;
  if (root === 'inputs') {
    const [step, ...key] = rest;
    const output = Object.hasOwn(values.inputs, step as string) ? values.inputs[step as string] : undefined;
    return output === undefined ? undefined : walk(output, key);
  }
  return values[root as (typeof TEMPLATE_NAMES)[number]];
}

/**
 * Follows a dotted key into an object. Keys may hold dots themselves (file names such as
 * `model.json`), so the longest run of parts naming a key wins at each level.
 */
export function walk(value: unknown, parts: string[]): unknown {
  if (parts.length === 0) return value;
  if (value === null || typeof value !== 'object') return undefined;
  const object = value as Record<string, unknown>;
  for (let n = parts.length; n >= 1; n--) {
    const key = parts.slice(0, n).join('.');
    if (Object.hasOwn(object, key)) {
      const found = walk(object[key], parts.slice(n));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function format(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function missingHint(ref: TemplateRef, values: TemplateValues): string {
  const [root, step] = ref.path;
  if (root === 'params')
    return `the run's parameters are: ${Object.keys(values.params).join(', ') || 'none'}`;
  const output = step !== undefined && Object.hasOwn(values.inputs, step) ? values.inputs[step] : undefined;
  if (output === undefined) {
    return `the step's inputs are: ${Object.keys(values.inputs).join(', ') || 'none'}; list the step in needs`;
  }
  return `the output of ${step} has the keys: ${Object.keys(output).join(', ') || 'none'}`;
}
