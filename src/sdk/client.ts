/**
 * The TypeScript SDK: a thin client of a running Meridian server's REST API. Every failure is a
 * MeridianError: the server's own code and message, or UNAVAILABLE naming the URL it could not reach.
 */
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { z } from 'zod';
import { invalidArgument, MeridianError } from '../core/errors.js';
import type { definitionsSchema } from '../features/definitions.js';
import type { Plan, RegistryKind } from '../features/plan.js';
import {
  type EntityRowsInput,
  type FeaturesInput,
  type HistoricalFormat,
  historicalBody,
  MEDIA_TYPES,
} from './historical-request.js';
import { ModelsClient } from './models.js';
import { readJson, Transport } from './transport.js';

export type { Plan, RegistryKind } from '../features/plan.js';
export type {
  EntityRow,
  EntityRowsInput,
  FeaturesInput,
  HistoricalFormat,
} from './historical-request.js';

/** Readonly all the way down, so the `as const` arrays the `define*` helpers keep are accepted. */
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** What `apply` accepts: the JSON payload of `POST /v1/apply`, which the `define*` helpers produce. */
export type DefinitionsInput = DeepReadonly<z.input<typeof definitionsSchema>>;

export interface MeridianClientOptions {
  /** The server's HTTP address, e.g. `http://127.0.0.1:8700`. */
  url: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

/** A registered object: its definition plus `createdAt`, `updatedAt` (views also `transformVersion`). */
export type RegistryObject = Record<string, unknown> & { name: string; createdAt: string; updatedAt: string };

/** A historical row: join keys, `event_timestamp` (ISO-8601 UTC) and one value (or null) per `view:feature`. */
export type HistoricalRow = Record<string, unknown> & { event_timestamp: string };

export interface HistoricalOptions {
  /** Only rows created at or before this time count. */
  asOfSystemTime?: string | number | Date;
  /** `json` (default) resolves with the rows; `parquet` and `csv` with the file's bytes or, with `out`, write it. */
  format?: HistoricalFormat;
  /** Streams the Parquet or CSV answer to this path or stream instead of holding it in memory. */
  out?: string | Writable;
}

/** A Parquet or CSV answer: its row count, and its bytes unless it was streamed to `out`. */
export interface HistoricalFileResult {
  rows: number;
  bytes?: Uint8Array;
}

export type OnlineFeatureStatus = 'PRESENT' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE';

/** The online answer in Feast's shape: one result per column (join keys first), values in entity order. */
export interface OnlineFeaturesResult {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: OnlineFeatureStatus[]; event_timestamps: string[] }[];
}

/** What to materialize: views (default every online view) and an event-time window [from, to). */
export interface MaterializeInput {
  views?: readonly string[];
  from?: string | number | Date;
  to?: string | number | Date;
}

/** Rows written online per view (`stale`: skipped because online held a newer event), and in total. */
export interface MaterializeResult {
  views: Record<string, { rows: number; stale: number }>;
  rows: number;
}

/** Events pushed: how many were new and how many were retries already stored. */
export interface PushResult {
  accepted: number;
  duplicates: number;
}

const LIST_KEYS = {
  entities: 'entities',
  sources: 'sources',
  'feature-views': 'featureViews',
  'feature-services': 'featureServices',
} as const;

export class MeridianClient {
  readonly url: string;
  /** The model registry, inference, baselines and drift of the server. */
  readonly models: ModelsClient;
  readonly #transport: Transport;

  constructor(options: MeridianClientOptions) {
    if (typeof options?.url !== 'string' || !/^https?:\/\/[^/]+/.test(options.url)) {
      throw new MeridianError(
        'INVALID_ARGUMENT',
        `url: "${String(options?.url)}" is not an http(s) URL; pass e.g. http://127.0.0.1:8700`,
        { field: 'url' },
      );
    }
    this.url = options.url.replace(/\/+$/, '');
    this.#transport = new Transport(this.url, options.timeoutMs ?? 30_000);
    this.models = new ModelsClient(this.#transport);
  }

  /** Applies a whole project's definitions (objects absent from them are removed); `dryRun` only plans. */
  apply(
    definitions: DefinitionsInput,
    options: { dryRun?: boolean } = {},
  ): Promise<{ plan: Plan; applied: boolean }> {
    const query = options.dryRun ? '?dryRun=true' : '';
    return this.#transport.request('POST', `/v1/apply${query}`, definitions);
  }

  /** Every registered object of a kind, by name. */
  async list(kind: RegistryKind): Promise<RegistryObject[]> {
    const body = await this.#transport.request<Record<string, RegistryObject[]>>('GET', `/v1/${kind}`);
    return body[LIST_KEYS[kind]] ?? [];
  }

  /** One registered object (a feature view with its `versions`); NOT_FOUND when there is none. */
  describe(kind: RegistryKind, name: string): Promise<RegistryObject> {
    return this.#transport.request('GET', `/v1/${kind}/${encodeURIComponent(name)}`);
  }

  /** Point-in-time feature rows of each entity row, in input order (see the options for Parquet and CSV). */
  getHistoricalFeatures(
    entities: EntityRowsInput,
    features: FeaturesInput,
    options?: HistoricalOptions & { format?: 'json' },
  ): Promise<HistoricalRow[]>;
  getHistoricalFeatures(
    entities: EntityRowsInput,
    features: FeaturesInput,
    options: HistoricalOptions & { format: 'parquet' | 'csv' },
  ): Promise<HistoricalFileResult>;
  async getHistoricalFeatures(
    entities: EntityRowsInput,
    features: FeaturesInput,
    options: HistoricalOptions = {},
  ): Promise<HistoricalRow[] | HistoricalFileResult> {
    const format = options.format ?? 'json';
    if (!(format in MEDIA_TYPES)) {
      throw invalidArgument(
        'format',
        `${JSON.stringify(format)} is not a format`,
        'pass json, parquet or csv',
      );
    }
    if (format === 'json' && options.out !== undefined) {
      throw invalidArgument('out', 'needs format parquet or csv', 'drop out to get the rows, or pass format');
    }
    const { body, contentType } = await historicalBody(entities, features, options.asOfSystemTime);
    const headers: Record<string, string> = { accept: MEDIA_TYPES[format] };
    if (contentType) headers['content-type'] = contentType;
    const response = await this.#transport.send('POST', '/v1/features/historical', { body, headers });
    if (format === 'json') return ((await readJson(response)) as { rows: HistoricalRow[] }).rows;
    const rows = Number(response.headers.get('meridian-row-count') ?? Number.NaN);
    if (options.out === undefined) return { rows, bytes: new Uint8Array(await response.arrayBuffer()) };
    const target = typeof options.out === 'string' ? createWriteStream(options.out) : options.out;
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), target);
    return { rows };
  }

  /** Latest feature values of the entities (`{ user_id: [1, 2] }`), with a status per value. */
  getOnlineFeatures(
    entities: Record<string, readonly unknown[]>,
    features: FeaturesInput,
  ): Promise<OnlineFeaturesResult> {
    const selection = Array.isArray(features)
      ? { features }
      : { featureService: (features as { featureService: string }).featureService };
    return this.#transport.request('POST', '/v1/features/online', { entities, ...selection });
  }

  /**
   * Loads the newest offline values of the views (default every online view) into the online store,
   * optionally only rows with an event time in [from, to); answers the rows written per view.
   */
  materialize(request: MaterializeInput = {}): Promise<MaterializeResult> {
    const body: Record<string, unknown> = { ...request };
    for (const key of ['from', 'to'] as const) {
      const value = request[key];
      if (value instanceof Date) body[key] = value.toISOString();
    }
    return this.#transport.request('POST', '/v1/materialize', body);
  }

  /** Pushes events into a source; resolves once they are durable offline and applied online. */
  push(source: string, events: readonly Record<string, unknown>[]): Promise<PushResult> {
    if (typeof source !== 'string' || source === '') {
      throw invalidArgument('source', 'must be the name of a source');
    }
    return this.#transport.request('POST', `/v1/sources/${encodeURIComponent(source)}/events`, { events });
  }
}
