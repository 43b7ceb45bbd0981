/**
 * The SDK's model client: the registry (push, describe, stage), OIP v2 inference on a version,
 * baselines and on-demand window drift of a running server, over its REST API.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { invalidArgument } from '../core/errors.js';
import type { BaselineSummary } from '../monitoring/baseline/profile.js';
import type { WindowDriftResult } from '../monitoring/drift/window-report.js';
import type {
  MissingPolicy,
  ModelDescription,
  ModelStage,
  ModelSummary,
  ModelVersion,
} from '../serving/model-version.js';
import type { Transport } from './transport.js';

export type {
  MissingPolicy,
  ModelDescription,
  ModelStage,
  ModelSummary,
  ModelVersion,
} from '../serving/model-version.js';
export type { BaselineSummary, WindowDriftResult };

/** A file to upload: a path on disk, or its bytes. */
export type FileInput = string | Uint8Array;

export interface PushModelOptions {
  /** The saved model: a path, or its bytes. */
  file: FileInput;
  format: 'onnx' | 'xgboost' | 'lightgbm';
  /** The feature service the model consumes. */
  featureService?: string;
  /** Feature names in input column order. */
  inputs?: readonly string[];
  /** What hydrated predictions do with a missing feature. */
  missing?: MissingPolicy;
  /** Training metrics, stored with the version. */
  metrics?: Record<string, unknown>;
  /** Who pushed it (default: the server's `unknown`). */
  createdBy?: string;
}

/** What a push answers: the new version's number, stage and file hash. */
export type PushedVersion = Pick<ModelVersion, 'name' | 'version' | 'stage' | 'sha256'>;

/** A stage change: the version as it is now, and the version it took production from. */
export type StageChanged = ModelVersion & { demotedVersion?: number };

/** A matrix of float64 rows, or its row-major values with its column count. */
export type Fp64Matrix = readonly (readonly number[])[] | { values: ArrayLike<number>; columns: number };

/** One OIP v2 output tensor as the JSON answer carries it. */
export interface InferOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

export interface InferResult {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: InferOutput[];
}

export interface BaselineOptions {
  /** csv, parquet or jsonl (default: from the file name). */
  format?: 'csv' | 'parquet' | 'jsonl';
  features?: readonly string[];
  prediction?: string;
  label?: string;
  categorical?: readonly string[];
  sampleSize?: number;
  seed?: number;
}

export interface DriftOptions {
  /** Window start (default: `to` minus one hour). */
  from?: string | Date;
  /** Window end, exclusive (default: now). */
  to?: string | Date;
  minRows?: number;
  methods?: Record<string, string>;
  thresholds?: Record<string, number>;
}

const path = (name: string, version?: number): string =>
  `/v1/models/${encodeURIComponent(name)}${version === undefined ? '' : `/versions/${version}`}`;

/** The model registry, inference, baselines and drift of a running server. */
export class ModelsClient {
  constructor(private readonly transport: Transport) {}

  /** Registers a model file as a new version in staging; `version()` gives all its metadata. */
  async push(name: string, options: PushModelOptions): Promise<PushedVersion> {
    const form = new FormData();
    form.append('format', options.format);
    if (options.featureService !== undefined) form.append('featureService', options.featureService);
    if (options.inputs !== undefined) form.append('inputs', options.inputs.join(','));
    if (options.missing !== undefined) form.append('missing', JSON.stringify(options.missing));
    if (options.metrics !== undefined) form.append('metrics', JSON.stringify(options.metrics));
    if (options.createdBy !== undefined) form.append('createdBy', options.createdBy);
    await appendFile(form, options.file, 'model');
    return this.multipart('POST', `${path(name)}/versions`, form);
  }

  /** Every model with its latest and production version. */
  async list(): Promise<ModelSummary[]> {
    return (await this.transport.request<{ models: ModelSummary[] }>('GET', '/v1/models')).models;
  }

  /** One model with all its versions, oldest first. */
  describe(name: string): Promise<ModelDescription> {
    return this.transport.request('GET', path(name));
  }

  /** One version. */
  version(name: string, version: number): Promise<ModelVersion> {
    return this.transport.request('GET', path(name, version));
  }

  /** Moves a version to a stage; promoting demotes the previous production version to staging. */
  setStage(name: string, version: number, stage: ModelStage): Promise<StageChanged> {
    return this.transport.request('POST', `${path(name, version)}/stage`, { stage });
  }

  /** OIP v2 inference on a version with one FP64 input matrix (`input`, `[rows, columns]`). */
  async infer(
    name: string,
    version: number,
    matrix: Fp64Matrix,
    options: { id?: string } = {},
  ): Promise<InferResult> {
    const { values, rows, columns } = flatten(matrix);
    const body = {
      ...(options.id !== undefined ? { id: options.id } : {}),
      inputs: [{ name: 'input', datatype: 'FP64', shape: [rows, columns], data: values }],
    };
    const url = `/v2/models/${encodeURIComponent(name)}/versions/${version}/infer`;
    return this.transport.request('POST', url, body);
  }

  /** Profiles a reference dataset (CSV, Parquet or JSONL) as the version's baseline. */
  async putBaseline(
    name: string,
    version: number,
    file: FileInput,
    options: BaselineOptions = {},
  ): Promise<BaselineSummary> {
    const form = new FormData();
    for (const [field, value] of Object.entries(options)) {
      if (value === undefined) continue;
      form.append(field, Array.isArray(value) ? value.join(',') : String(value));
    }
    await appendFile(form, file, 'reference');
    return this.multipart('PUT', `${path(name, version)}/baseline`, form);
  }

  /** The drift of a window of the version's prediction log against its baseline, computed now. */
  drift(name: string, version: number, options: DriftOptions = {}): Promise<WindowDriftResult> {
    const body: Record<string, unknown> = { ...options };
    for (const key of ['from', 'to'] as const) {
      const value = options[key];
      if (value instanceof Date) body[key] = value.toISOString();
    }
    return this.transport.request('POST', `${path(name, version)}/drift`, body);
  }

  private async multipart<T>(method: string, url: string, form: FormData): Promise<T> {
    const response = await this.transport.send(method, url, { headers: {}, body: form });
    return (await response.json()) as T;
  }
}

/** Appends the `file` part: a path is streamed from disk under its own name. */
async function appendFile(form: FormData, file: FileInput, fallbackName: string): Promise<void> {
  if (typeof file === 'string') {
    let blob: Blob;
    try {
      blob = await openAsBlob(file);
    } catch {
      throw invalidArgument(
        'file',
        `no readable file at ${file}`,
        'pass the path of an existing file, or its bytes',
      );
    }
    form.append('file', blob, basename(file));
  } else if (file instanceof Uint8Array) {
    form.append('file', new Blob([file]), fallbackName);
  } else {
    throw invalidArgument('file', 'is neither a path nor bytes', 'pass a file path or a Uint8Array');
  }
}

function flatten(matrix: Fp64Matrix): { values: number[]; rows: number; columns: number } {
  if (Array.isArray(matrix)) {
    const rows = matrix as readonly (readonly number[])[];
    const columns = rows[0]?.length ?? 0;
    const bad = rows.findIndex((row) => !Array.isArray(row) || row.length !== columns);
    if (bad >= 0) {
      throw invalidArgument(
        `matrix[${bad}]`,
        `does not have ${columns} values like row 0`,
        'pass rows of equal length',
      );
    }
    return { values: rows.flat(), rows: rows.length, columns };
  }
  const { values, columns } = matrix as { values: ArrayLike<number>; columns: number };
  if (!Number.isInteger(columns) || columns < 1 || values.length % columns !== 0) {
    throw invalidArgument(
      'columns',
      `${values.length} values do not fill rows of ${columns}`,
      'pass the column count',
    );
  }
  return { values: Array.from(values), rows: values.length / columns, columns };
}
