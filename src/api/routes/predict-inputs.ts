/**
 * How a hydrated prediction turns a feature service's online values into a model's input batch: which
 * service feature fills each model input, and what a missing value becomes under the version's policy.
 * The rules are in predict.ts's header.
 */

import { MeridianError } from '../../core/errors.js';
import { type Catalog, resolveFeatureRefs } from '../../features/catalog.js';
import type { OnlineFeaturesResponse } from '../../features/retrieval/online.js';
import type { MissingPolicy } from '../../serving/model-version.js';
import type { ServedModel } from '../../serving/resolver.js';

/** One input column: the model's name for it and the service feature that fills it. */
export interface InputColumn {
  input: string;
  ref: string;
}

/** The feature service a version hydrates from; FAILED_PRECONDITION when it has none. */
export function serviceOf(served: ServedModel): string {
  if (served.featureService !== undefined) return served.featureService;
  throw new MeridianError(
    'FAILED_PRECONDITION',
    `model "${served.name}" version ${served.version} has no feature service, so it cannot hydrate entities; ` +
      `push a version with \`meridian models push ${served.name} <file> --features <feature-service>\`, ` +
      `or send feature values to POST /v2/models/${served.name}/infer`,
    { field: 'featureService', name: served.name, version: served.version },
  );
}

/** Maps each model input to the service feature that fills it (see predict.ts for the rules). */
export function inputColumns(
  catalog: Catalog,
  served: ServedModel,
  serviceName: string,
): { columns: InputColumn[]; refCount: number } {
  const where = `model "${served.name}" version ${served.version}`;
  if (!catalog.service(serviceName)) {
    throw new MeridianError(
      'FAILED_PRECONDITION',
      `${where} consumes feature service "${serviceName}", which is not applied; apply it with POST /v1/apply`,
      { field: 'featureService', featureService: serviceName },
    );
  }
  const refs = resolveFeatureRefs(catalog, catalog.service(serviceName)!.features).map((r) => r.ref);
  const featureCount = served.model.signature.featureCount;
  const inputs = served.inputs ?? refs;
  if (inputs.length !== featureCount) {
    throw new MeridianError(
      'FAILED_PRECONDITION',
      `${where} takes ${featureCount} inputs but feature service "${serviceName}" has ${refs.length} features; ` +
        'push the version with --inputs naming the features in input order',
      { field: 'inputs', featureService: serviceName },
    );
  }
  const columns = inputs.map((input) => ({ input, ref: refFor(input, refs, where, serviceName) }));
  return { columns, refCount: refs.length };
}

function refFor(input: string, refs: readonly string[], where: string, serviceName: string): string {
  if (refs.includes(input)) return input;
  const matches = refs.filter((ref) => ref.slice(ref.indexOf(':') + 1) === input);
  if (matches.length === 1) return matches[0]!;
  const problem =
    matches.length === 0
      ? `is not a feature of service "${serviceName}" (it has ${refs.join(', ')})`
      : `is ambiguous in service "${serviceName}" (${matches.join(', ')}); name it as view:feature`;
  throw new MeridianError(
    'FAILED_PRECONDITION',
    `${where}: input "${input}" ${problem}; push the version with --inputs naming the service's features`,
    { field: 'inputs', input },
  );
}

/** Row-major input values in the model's input order, missing values filled by the policy. */
export function assemble(
  read: OnlineFeaturesResponse,
  keyCount: number,
  columns: readonly InputColumn[],
  policy: MissingPolicy,
  served: ServedModel,
): Float64Array {
  const names = read.metadata.feature_names;
  const rows = read.results[0]!.values.length;
  const values = new Float64Array(rows * columns.length);
  columns.forEach(({ input, ref }, c) => {
    const column = read.results[names.indexOf(ref, keyCount)]!;
    const feature = ref.slice(ref.indexOf(':') + 1);
    const fallback = policy.values?.[input] ?? policy.values?.[ref] ?? policy.values?.[feature];
    for (let r = 0; r < rows; r++) {
      const value = column.values[r];
      const status = column.statuses[r]!;
      let filled: number;
      if (status === 'PRESENT' && value !== null) filled = numeric(value, ref);
      else if (fallback !== undefined) filled = fallback;
      else if (policy.default === 'nan') filled = Number.NaN;
      else throw missingValue(served, read, keyCount, r, input, ref, status);
      values[r * columns.length + c] = filled;
    }
  });
  return values;
}

function numeric(value: unknown, ref: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new MeridianError(
    'FAILED_PRECONDITION',
    `feature ${ref} holds ${JSON.stringify(value)}, which is not a number a model can take; ` +
      'serve numeric features (float, int, bool) to models',
    { field: ref },
  );
}

function missingValue(
  served: ServedModel,
  read: OnlineFeaturesResponse,
  keyCount: number,
  row: number,
  input: string,
  ref: string,
  status: string,
): MeridianError {
  const entity: Record<string, unknown> = {};
  for (let k = 0; k < keyCount; k++) entity[read.metadata.feature_names[k]!] = read.results[k]!.values[row];
  const shown = Object.entries(entity)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(', ');
  return new MeridianError(
    'FAILED_PRECONDITION',
    `entity ${shown} has no value for input "${input}" (${ref}: ${status}) and model "${served.name}" ` +
      `version ${served.version} declares no default; ingest the entity's features, or push the version with ` +
      `--missing '{"default": "nan"}' or '{"values": {"${input}": <default>}}'`,
    { field: 'entities', entity, input, feature: ref, status },
  );
}

/** The values used per input, NaN as null, for `includeFeatures`. */
export function featureValues(
  columns: readonly InputColumn[],
  values: Float64Array,
  rows: number,
): Record<string, (number | null)[]> {
  const features: Record<string, (number | null)[]> = {};
  columns.forEach(({ input }, c) => {
    const column: (number | null)[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const v = values[r * columns.length + c]!;
      column[r] = Number.isNaN(v) ? null : v;
    }
    features[input] = column;
  });
  return features;
}
