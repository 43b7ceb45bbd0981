import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { alertsConfigSchema } from './alerts-config.js';
import { booleanFlag } from './boolean-flag.js';
import { windowDriftConfigSchema } from './drift-config.js';
import { MeridianError } from './errors.js';
import { pipelinesConfigSchema } from './pipelines-config.js';

export const TARGETS = ['all', 'features', 'serving', 'monitoring', 'pipelines'] as const;
export type Target = (typeof TARGETS)[number];

/** Model worker threads per version: one per core, at most 4, so serving cannot take the whole machine. */
const DEFAULT_WORKERS = Math.max(1, Math.min(4, availableParallelism()));
/** Measured with bench/serving.ts: below this many rows a batch is faster on the serving thread. */
const DEFAULT_POOL_ROWS = 64;

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The whole configuration: defaults live here and nowhere else. Store values are URLs; the bare
 * words name the embedded default, which keeps its files under `dataDir`.
 */
export const configSchema = z
  .object({
    target: z.enum(TARGETS).default('all'),
    dataDir: z.string().min(1).default('./.meridian'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    http: z.object({ host: z.string().min(1).default('0.0.0.0'), port: port.default(8700) }).prefault({}),
    grpc: z.object({ host: z.string().min(1).default('0.0.0.0'), port: port.default(8701) }).prefault({}),
    /** `lmdb` | `lmdb:/path` | `redis://host:port/db` */
    onlineStore: z.string().default('lmdb'),
    /** `pglite` | `pglite:/path` | `postgres://user@host:port/db` */
    stateStore: z.string().default('pglite'),
    /** `state` (pg-boss on the state store) | `postgres://...` */
    jobQueue: z.string().default('state'),
    /** `memory` | `nats://host:port` */
    eventStream: z.string().default('memory'),
    /** `file` | `file:/path` | `azure:<container>` (with azure.connectionString) */
    artifactStore: z.string().default('file'),
    /** `duckdb` | `duckdb:/path/file.duckdb` */
    offlineStore: z.string().default('duckdb'),
    azure: z.object({ connectionString: z.string().optional() }).prefault({}),
    resources: z
      .object({
        /** Share of system memory above which no new worker starts. */
        memoryCeiling: z.coerce.number().gt(0).max(1).default(0.9),
      })
      .prefault({}),
    features: z
      .object({
        /** Worker threads running TypeScript transforms: bounded, so transforms cannot starve serving. */
        transformThreads: z.coerce
          .number()
          .int()
          .min(1)
          .max(64)
          .default(Math.max(1, Math.min(4, availableParallelism()))),
        /** With a NATS event stream, consume `meridian.events.{source}` for every stream source. */
        consumeEvents: booleanFlag.default(true),
      })
      .prefault({}),
    serving: z
      .object({
        /** Most worker threads per loaded model version; 0 runs every batch on the serving thread. */
        workers: z.coerce.number().int().min(0).max(64).default(DEFAULT_WORKERS),
        /** Threads each version keeps loaded and warm, started before the version reports ready. */
        minWorkers: z.coerce.number().int().min(1).max(64).default(1),
        /** Batches with fewer rows run on the serving thread: for them a thread hop costs more than the model. */
        poolRows: z.coerce.number().int().min(1).default(DEFAULT_POOL_ROWS),
        /** How long a thread above `minWorkers` may idle before it exits. */
        workerIdleMs: z.coerce.number().int().min(0).default(30_000),
      })
      .refine((s) => s.workers === 0 || s.minWorkers <= s.workers, {
        path: ['minWorkers'],
        message: 'must not exceed serving.workers; lower minWorkers or raise workers',
      })
      .prefault({}),
    monitoring: z
      .object({
        alerts: alertsConfigSchema,
        drift: windowDriftConfigSchema,
        /** Scheduled monitoring waits while serving's recent p95 is above this (it is the lowest priority). */
        servingP95ObjectiveMs: z.coerce.number().positive().default(100),
        /** A label may arrive this long after its prediction; older ones are counted, not stored. */
        labelLookbackMs: z.coerce
          .number()
          .int()
          .positive()
          .default(14 * 24 * 3_600_000),
      })
      .prefault({}),
    pipelines: pipelinesConfigSchema,
    shutdownTimeoutMs: z.coerce.number().int().positive().default(15_000),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export const ENV_PREFIX = 'MERIDIAN_';

/** `http.port` -> `MERIDIAN_HTTP_PORT`, `onlineStore` -> `MERIDIAN_ONLINE_STORE`. */
export function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Every leaf key path of the schema, so the env names are derived from it and never drift. */
export function configKeyPaths(schema: z.ZodType = configSchema, prefix: string[] = []): string[][] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) =>
      configKeyPaths(child, [...prefix, key]),
    );
  }
  return [prefix];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

/** Values set by `MERIDIAN_*` variables, as a nested object. */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of configKeyPaths()) {
    const value = env[envNameFor(path)];
    if (value !== undefined && value !== '') setPath(out, path, value);
  }
  if (env.AZURE_STORAGE_CONNECTION_STRING && !env[envNameFor(['azure', 'connectionString'])]) {
    setPath(out, ['azure', 'connectionString'], env.AZURE_STORAGE_CONNECTION_STRING);
  }
  return out;
}

export interface LoadConfigOptions {
  /** Directory holding `meridian.yaml`; defaults to the working directory. */
  cwd?: string;
  /** An explicit config file; an error when it does not exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags: they win over env and file. */
  overrides?: Record<string, unknown>;
}

/** Loads `meridian.yaml`, then `MERIDIAN_*` env, then flags; fails with the key path and the reason. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ? resolve(cwd, options.file) : resolve(cwd, 'meridian.yaml');
  let fromFile: Record<string, unknown> = {};
  if (options.file && !existsSync(file)) {
    throw new MeridianError('CONFIG_INVALID', `config file ${file} does not exist; pass an existing file`, {
      field: 'config',
    });
  }
  if (existsSync(file)) fromFile = readYaml(file);
  const merged = deepMerge(
    deepMerge(fromFile, envOverrides(options.env ?? process.env)),
    options.overrides ?? {},
  );
  return parseConfig(merged, file);
}

/** Validates a config object; the error names each bad key path, its env variable and the reason. */
export function parseConfig(input: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...path, k].join('.')) : [];
    if (keys.length > 0) return `unknown key ${keys.join(', ')} (remove it or fix its spelling)`;
    const where = path.join('.') || '(root)';
    return `${where} (env ${envNameFor(path)}): ${issue.message}`;
  });
  throw new MeridianError('CONFIG_INVALID', `invalid configuration in ${source}: ${problems.join('; ')}`, {
    field: result.error.issues[0]?.path.join('.') ?? '',
    problems,
  });
}

function readYaml(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MeridianError('CONFIG_INVALID', `${file} is not valid YAML: ${(err as Error).message}`, {
      field: 'config',
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MeridianError('CONFIG_INVALID', `${file} must hold a YAML mapping of config keys`, {
      field: 'config',
    });
  }
  return parsed as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] =
      isPlainObject(prev) && isPlainObject(value)
        ? deepMerge(prev as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
