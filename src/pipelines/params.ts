/**
 * A run's parameters: what a trigger gives, checked against the pipeline's declared parameters,
 * with defaults filled in. Errors name `params.NAME`, the JSON name a REST caller sent.
 */
import { invalidArgument } from '../core/errors.js';
import type { ParamSpec, ParamType, Pipeline } from './types.js';

export const PARAM_TYPES: readonly ParamType[] = [
  'string',
  'number',
  'integer',
  'boolean',
  'object',
  'array',
];

/** The JSON type of a value as parameters name them (`integer` for whole numbers). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'non-finite number';
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value;
}

/** Whether value is of the parameter type: an integer is also a number, nothing else converts. */
export function matchesType(type: ParamType, value: unknown): boolean {
  const actual = jsonTypeOf(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

/** The problem with a value for a parameter, e.g. `must be an integer, got "3"`; null when it fits. */
export function paramValueProblem(spec: ParamSpec, value: unknown): string | null {
  if (matchesType(spec.type, value)) return null;
  const shown = JSON.stringify(value) ?? String(value);
  const article = spec.type === 'integer' || spec.type === 'object' || spec.type === 'array' ? 'an' : 'a';
  return `must be ${article} ${spec.type}, got ${jsonTypeOf(value)} ${shown.length > 60 ? `${shown.slice(0, 60)}...` : shown}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The run's parameters: params checked against the pipeline's, defaults applied (as copies). */
export function resolveParams(pipeline: Pipeline, params: unknown): Record<string, unknown> {
  if (params !== undefined && params !== null && !isPlainObject(params)) {
    throw invalidArgument('params', `must be an object of parameter values, got ${jsonTypeOf(params)}`);
  }
  const given = params ?? {};
  const declared = pipeline.params;
  const known = Object.keys(declared);
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) {
      throw invalidArgument(
        `params.${name}`,
        `is not a parameter of pipeline ${pipeline.name}`,
        known.length ? `its parameters are: ${known.join(', ')}` : 'it takes no parameters',
      );
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      if (spec.default === undefined) {
        throw invalidArgument(`params.${name}`, `is required (a ${spec.type})`, `pass params.${name}`);
      }
      resolved[name] = structuredClone(spec.default);
      continue;
    }
    const problem = paramValueProblem(spec, value);
    if (problem) throw invalidArgument(`params.${name}`, problem);
    resolved[name] = value;
  }
  return resolved;
}
