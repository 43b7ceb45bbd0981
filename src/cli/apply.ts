/**
 * `meridian apply [path]`, `meridian features list [kind]` and `meridian features describe <kind> <name>`.
 * They talk to a running server over REST (the embedded state store belongs to its process), so
 * the CLI never opens a store itself.
 *
 * A definitions module is TypeScript, loaded without a build step. Either its default export is the
 * JSON payload of `POST /v1/apply` (`{ entities, sources, featureViews, featureServices }`), or every
 * named export that `defineEntity`, `defineSource`, `defineFeatureView` or `defineFeatureService`
 * produced is collected (other exports are ignored). The module is the whole project: registered
 * objects it no longer exports are removed.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { tsImport } from 'tsx/esm/api';
import { MeridianError } from '../core/errors.js';
import type { Plan, RegistryKind } from '../features/plan.js';
import { type DefinitionsInput, MeridianClient } from '../sdk/client.js';
import { table } from './table.js';

const DEFAULT_URL = process.env.MERIDIAN_URL ?? 'http://127.0.0.1:8700';
const PAYLOAD_KEYS = ['entities', 'sources', 'featureViews', 'featureServices'] as const;
const KIND_NAMES = {
  entities: 'entity',
  sources: 'source',
  featureViews: 'feature view',
  featureServices: 'feature service',
} as const;

const KIND_ALIASES: Record<string, RegistryKind> = {
  entity: 'entities',
  entities: 'entities',
  source: 'sources',
  sources: 'sources',
  view: 'feature-views',
  views: 'feature-views',
  'feature-view': 'feature-views',
  'feature-views': 'feature-views',
  service: 'feature-services',
  services: 'feature-services',
  'feature-service': 'feature-services',
  'feature-services': 'feature-services',
};

/** Registers `apply` and `features list|describe` on the program. */
export function registerApplyCommands(program: Command): void {
  program
    .command('apply')
    .description('apply a definitions module (the whole project) to the registry of a running server')
    .argument('[path]', 'the definitions module, or a folder with features.ts', 'features.ts')
    .option('--dry-run', 'show the plan without applying it')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (path: string, flags: { dryRun?: boolean; url: string }) => {
      const file = definitionsFile(path);
      const definitions = await loadDefinitions(file);
      const result = await new MeridianClient({ url: flags.url })
        .apply(definitions, { dryRun: flags.dryRun === true })
        .catch((err: unknown) => Promise.reject(naming(err, definitions)));
      process.stdout.write(formatPlan(result.plan, { applied: result.applied, url: flags.url, file }));
    });

  // Other feature commands may register `features` too: share one parent.
  const features =
    program.commands.find((c) => c.name() === 'features') ??
    program.command('features').description('feature store objects and data');
  features
    .command('list')
    .description('list registered entities, sources, feature views and feature services')
    .argument('[kind]', 'entities, sources, feature-views or feature-services (default: all)', parseKind)
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (kind: RegistryKind | undefined, flags: { url: string }) => {
      const client = new MeridianClient({ url: flags.url });
      const kinds = kind ? [kind] : (Object.values(KIND_ALIASES).filter(unique) as RegistryKind[]);
      const rows: string[][] = [['KIND', 'NAME', 'DETAILS']];
      for (const k of kinds) {
        for (const object of await client.list(k)) rows.push([k, object.name, summary(object)]);
      }
      process.stdout.write(rows.length === 1 ? 'nothing registered\n' : table(rows));
    });
  features
    .command('describe')
    .description('show one registered object as JSON (a feature view with its versions)')
    .argument('<kind>', 'entity, source, feature-view or feature-service', parseKind)
    .argument('<name>', 'its name')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (kind: RegistryKind, name: string, flags: { url: string }) => {
      const object = await new MeridianClient({ url: flags.url }).describe(kind, name);
      process.stdout.write(`${JSON.stringify(object, null, 2)}\n`);
    });
}

const unique = <T>(value: T, i: number, all: T[]) => all.indexOf(value) === i;

function parseKind(value: string): RegistryKind {
  const kind = KIND_ALIASES[value];
  if (!kind) throw new InvalidArgumentError('expected entities, sources, feature-views or feature-services');
  return kind;
}

/** The module a path names: the file itself, or `features.ts` in a folder. */
export function definitionsFile(path: string): string {
  const absolute = resolve(path);
  const file =
    existsSync(absolute) && statSync(absolute).isDirectory() ? join(absolute, 'features.ts') : absolute;
  if (!existsSync(file)) {
    throw new MeridianError(
      'INVALID_ARGUMENT',
      `path: no definitions module at ${file}; pass the file that exports your definitions (or its folder with features.ts)`,
      { field: 'path' },
    );
  }
  return file;
}

/** Loads a TypeScript definitions module (no build step) and collects its definitions. */
export async function loadDefinitions(file: string): Promise<DefinitionsInput> {
  let module: Record<string, unknown>;
  try {
    module = await tsImport(pathToFileURL(file).href, import.meta.url);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MeridianError('INVALID_ARGUMENT', `path: cannot load ${file}: ${reason}`, { field: 'path' });
  }
  return collectDefinitions(module, file);
}

/** The payload of a module: its default export when that is the payload, else its named definitions. */
export function collectDefinitions(loaded: Record<string, unknown>, file: string): DefinitionsInput {
  // A module loaded as CommonJS (no "type": "module" nearby) arrives wrapped in `default`.
  const wrapped = loaded.default as { __esModule?: unknown } | undefined;
  const module = wrapped?.__esModule ? (wrapped as Record<string, unknown>) : loaded;
  const fallback = module.default as Record<string, unknown> | undefined;
  if (fallback && typeof fallback === 'object' && PAYLOAD_KEYS.some((k) => Array.isArray(fallback[k]))) {
    return fallback as DefinitionsInput;
  }
  const payload = { entities: [], sources: [], featureViews: [], featureServices: [] } as Record<
    (typeof PAYLOAD_KEYS)[number],
    unknown[]
  >;
  for (const value of new Set(Object.values(module))) {
    const key = kindOf(value);
    if (key) payload[key].push(value);
  }
  if (PAYLOAD_KEYS.every((k) => payload[k].length === 0)) {
    throw new MeridianError(
      'INVALID_ARGUMENT',
      `path: ${file} exports no definitions; export what defineEntity/defineSource/defineFeatureView/defineFeatureService return, or a default export { entities, sources, featureViews, featureServices }`,
      { field: 'path' },
    );
  }
  return payload as DefinitionsInput;
}

/** Which kind of definition a value is, by the fields only that kind has. */
function kindOf(value: unknown): (typeof PAYLOAD_KEYS)[number] | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string') return undefined;
  if (Array.isArray(v.joinKeys)) return 'entities';
  if (typeof v.timestampField === 'string' && v.schema && typeof v.schema === 'object') return 'sources';
  if (Array.isArray(v.entities) && v.features && typeof v.features === 'object' && !Array.isArray(v.features))
    return 'featureViews';
  if (Array.isArray(v.features)) return 'featureServices';
  return undefined;
}

/** A payload path such as `featureViews[1].source` means little to someone who wrote named exports: add the name. */
function naming(err: unknown, definitions: DefinitionsInput): unknown {
  const field = err instanceof MeridianError ? err.details.field : undefined;
  const match =
    typeof field === 'string'
      ? /^(entities|sources|featureViews|featureServices)\[(\d+)\]/.exec(field)
      : null;
  if (!match || !(err instanceof MeridianError)) return err;
  const key = match[1] as (typeof PAYLOAD_KEYS)[number];
  const name = (definitions[key]?.[Number(match[2])] as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string') return err;
  return new MeridianError(err.code, `${KIND_NAMES[key]} "${name}": ${err.message}`, err.details, {
    cause: err,
  });
}

/** The plan as a table of added (+), changed (~) and removed (-) objects, and what happened. */
export function formatPlan(plan: Plan, context: { applied: boolean; url: string; file: string }): string {
  const rows: string[][] = [];
  for (const key of PAYLOAD_KEYS) {
    const p = plan[key];
    const version = (name: string) => {
      const v = key === 'featureViews' ? plan.featureViews.transformVersions[name] : undefined;
      return v === undefined ? '' : `transform version ${v}`;
    };
    for (const name of p.added) rows.push(['+ add', KIND_NAMES[key], name, version(name)]);
    for (const name of p.changed) rows.push(['~ change', KIND_NAMES[key], name, version(name)]);
    for (const name of p.removed) rows.push(['- remove', KIND_NAMES[key], name, '']);
  }
  if (rows.length === 0)
    return `No changes: the registry at ${context.url} already matches ${context.file}\n`;
  const count = (what: 'added' | 'changed' | 'removed') =>
    PAYLOAD_KEYS.reduce((n, key) => n + plan[key][what].length, 0);
  const totals = `${count('added')} to add, ${count('changed')} to change, ${count('removed')} to remove`;
  const outcome = context.applied
    ? `Applied to ${context.url}: ${totals}.`
    : `Dry run: ${totals}; nothing was written (run without --dry-run to apply).`;
  return `${table([['ACTION', 'KIND', 'NAME', 'NOTE'], ...rows])}\n${outcome}\n`;
}

function summary(object: Record<string, unknown>): string {
  if (Array.isArray(object.joinKeys)) return `join keys ${object.joinKeys.join(', ')}`;
  if (object.timestampField)
    return `${String(object.kind)}, ${Object.keys(object.schema as object).length} fields`;
  if (Array.isArray(object.features)) return `${object.features.length} feature refs`;
  const input = object.source ? `source ${String(object.source)}` : `views ${String(object.views)}`;
  const features = Object.keys(object.features as object).length;
  const ttl = object.ttl ? `, ttl ${String(object.ttl)}` : '';
  return `${input}, ${features} features, transform v${String(object.transformVersion)}${ttl}`;
}
