/**
 * What the model registry records about a version, how a push is checked before anything is
 * stored, and how a state store row becomes the JSON the API answers with.
 */
import { invalidArgument } from '../core/errors.js';
import { parseModelFormat } from './runtimes/index.js';
import type { ModelFormat, ModelSignature } from './runtimes/model.js';

export const MODEL_STAGES = ['staging', 'production', 'archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

/** One registered version, as `GET /v1/models/{name}` lists it. */
export interface ModelVersion {
  name: string;
  version: number;
  format: ModelFormat;
  stage: ModelStage;
  /** Where the file lives in the artifact store, its SHA-256 (hex) and size in bytes. */
  artifactPath: string;
  sha256: string;
  size: number;
  signature: ModelSignature;
  /** Feature names in input column order. */
  inputs?: string[];
  featureService?: string;
  /** What a hydrated prediction does with a missing feature value; absent = error. */
  missingPolicy?: MissingPolicy;
  metrics?: Record<string, unknown>;
  /** A reference to the training baseline (e.g. an artifact path), for drift monitoring. */
  baseline?: string;
  createdBy: string;
  createdAt: string;
  stageChangedAt: string;
}

/** A registered model, as `GET /v1/models` lists it. */
export interface ModelSummary {
  name: string;
  createdAt: string;
  latestVersion: number;
  /** The version answering by default, when one is in production. */
  productionVersion?: number;
}

/**
 * How a hydrated prediction fills a feature the online store does not have (NOT_FOUND or
 * OUTSIDE_MAX_AGE): `values` gives a default per input name; any other input follows `default`,
 * `error` (refuse the request, naming entity and feature) or `nan` (pass NaN, which tree models
 * route as missing). Never a silent zero.
 */
export interface MissingPolicy {
  default: 'error' | 'nan';
  values?: Record<string, number>;
}

export interface ModelDescription extends ModelSummary {
  versions: ModelVersion[];
}

/** What `push` registers: the model file's bytes and what is known about it. */
export interface PushInput {
  name: string;
  format: ModelFormat | string;
  bytes: Uint8Array;
  inputs?: readonly string[];
  featureService?: string;
  missingPolicy?: MissingPolicy;
  metrics?: Record<string, unknown>;
  baseline?: string;
  createdBy?: string;
}

export interface CheckedPush {
  name: string;
  format: ModelFormat;
  bytes: Uint8Array;
  inputs?: string[];
  featureService?: string;
  missingPolicy?: MissingPolicy;
  metrics?: Record<string, unknown>;
  baseline?: string;
  createdBy: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const NAME_HINT = 'use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit';

/** Returns a valid model (or feature service) name; INVALID_ARGUMENT naming `field` otherwise. */
export function checkName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : `a ${typeof value}`;
    throw invalidArgument(field, `${shown} is not a valid name`, NAME_HINT);
  }
  return value;
}

/** Returns a positive integer version; accepts its decimal text (from a URL). */
export function checkVersion(value: unknown, field = 'version'): number {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw invalidArgument(
      field,
      `${JSON.stringify(value)} is not a version number`,
      'versions are 1, 2, 3, ...',
    );
  }
  return n;
}

/** Returns a stage; INVALID_ARGUMENT naming `stage` lists the choices. */
export function checkStage(value: unknown): ModelStage {
  if (typeof value === 'string' && (MODEL_STAGES as readonly string[]).includes(value)) {
    return value as ModelStage;
  }
  const shown = value === undefined ? 'is missing' : `${JSON.stringify(value)} is not a stage`;
  throw invalidArgument('stage', shown, `send one of ${MODEL_STAGES.join(', ')}`);
}

/** Validates every argument of a push that can be checked without loading the model. */
export function checkPush(input: PushInput): CheckedPush {
  if (typeof input !== 'object' || input === null) throw invalidArgument('push', 'must be an object');
  const checked: CheckedPush = {
    name: checkName(input.name),
    format: parseModelFormat(input.format),
    bytes: checkBytes(input.bytes),
    createdBy: checkText(input.createdBy ?? 'unknown', 'createdBy'),
  };
  if (input.inputs !== undefined) checked.inputs = checkInputNames(input.inputs);
  if (input.featureService !== undefined) {
    checked.featureService = checkName(input.featureService, 'featureService');
  }
  if (input.missingPolicy !== undefined) checked.missingPolicy = checkMissingPolicy(input.missingPolicy);
  if (input.metrics !== undefined) checked.metrics = checkMetrics(input.metrics);
  if (input.baseline !== undefined) checked.baseline = checkText(input.baseline, 'baseline');
  return checked;
}

/** INVALID_ARGUMENT naming `inputs` unless there is one name per input column of the signature. */
export function checkInputsFit(inputs: string[] | undefined, signature: ModelSignature): void {
  if (inputs === undefined || inputs.length === signature.featureCount) return;
  throw invalidArgument(
    'inputs',
    `names ${inputs.length} features but the model takes ${signature.featureCount} input columns`,
    'name every input column, in the order the model was trained on',
  );
}

const POLICY_HINT = 'send {"default": "error"|"nan", "values": {"amount": 0}}';

/** Returns a valid missing-value policy; INVALID_ARGUMENT naming `missing` otherwise. */
export function checkMissingPolicy(value: unknown): MissingPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument('missing', 'must be a JSON object', POLICY_HINT);
  }
  const { default: fallback = 'error', values, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw invalidArgument(`missing.${extra}`, 'is not a policy field', POLICY_HINT);
  if (fallback !== 'error' && fallback !== 'nan') {
    throw invalidArgument('missing.default', `${JSON.stringify(fallback)} is not a policy`, POLICY_HINT);
  }
  const policy: MissingPolicy = { default: fallback };
  if (values === undefined) return policy;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw invalidArgument('missing.values', 'must be an object of input name -> number', POLICY_HINT);
  }
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalidArgument(
        `missing.values.${name}`,
        'must be a finite number',
        'use "default": "nan" for NaN',
      );
    }
  }
  policy.values = { ...(values as Record<string, number>) };
  return policy;
}

function checkBytes(bytes: unknown): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('file', 'must be the model file bytes');
  if (bytes.byteLength === 0) throw invalidArgument('file', 'is empty', 'send the saved model file');
  return bytes;
}

function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1024) {
    throw invalidArgument(field, 'must be a non-empty string of at most 1024 characters');
  }
  return value;
}

function checkInputNames(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidArgument('inputs', 'must be a non-empty list of feature names', 'e.g. age,income,tenure');
  }
  const seen = new Set<string>();
  value.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '') {
      throw invalidArgument(`inputs[${i}]`, 'must be a non-empty feature name');
    }
    if (seen.has(name))
      throw invalidArgument(`inputs[${i}]`, `"${name}" appears twice`, 'name each column once');
    seen.add(name);
  });
  return [...value];
}

function checkMetrics(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument('metrics', 'must be a JSON object', 'e.g. {"auc": 0.91}');
  }
  if (JSON.stringify(value).length > 65_536) {
    throw invalidArgument('metrics', 'is larger than 64 KiB', 'keep training metrics to summary numbers');
  }
  return value as Record<string, unknown>;
}

/** A model_versions row as the state store returns it. */
export interface VersionRow {
  name: string;
  version: number;
  format: ModelFormat;
  artifact_path: string;
  sha256: string;
  size: number | string;
  signature: unknown;
  inputs: unknown;
  feature_service: string | null;
  missing_policy: unknown;
  metrics: unknown;
  baseline: string | null;
  stage: ModelStage;
  created_by: string;
  created_at: Date;
  stage_changed_at: Date;
}

/** A row as the API shows it: optional fields absent rather than null. */
export function versionFromRow(r: VersionRow): ModelVersion {
  const v: ModelVersion = {
    name: r.name,
    version: Number(r.version),
    format: r.format,
    stage: r.stage,
    artifactPath: r.artifact_path,
    sha256: r.sha256,
    size: Number(r.size),
    signature: fromJson(r.signature) as ModelSignature,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    stageChangedAt: r.stage_changed_at.toISOString(),
  };
  const inputs = fromJson(r.inputs);
  if (Array.isArray(inputs)) v.inputs = inputs as string[];
  if (r.feature_service !== null) v.featureService = r.feature_service;
  const missing = fromJson(r.missing_policy);
  if (missing !== null && missing !== undefined) v.missingPolicy = missing as MissingPolicy;
  const metrics = fromJson(r.metrics);
  if (metrics !== null && metrics !== undefined) v.metrics = metrics as Record<string, unknown>;
  if (r.baseline !== null) v.baseline = r.baseline;
  return v;
}

function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
