/**
 * What an apply would do: the declarative diff between the registry and a project's definitions,
 * and the transform version each view gets. Pure, so dry runs and tests need no store.
 */
import { invalidArgument, MeridianError } from '../core/errors.js';
import { type ResolvedView, resolveView } from './catalog.js';
import {
  type Definitions,
  definitionsSchema,
  type EntityDef,
  type FeatureServiceDef,
  type FeatureType,
  type FeatureViewDef,
  type SourceDef,
} from './definitions.js';
import { transformSyntaxProblem } from './ingest/transform-code.js';

/** The kinds of registry objects, as they appear in URLs (`GET /v1/<kind>`). */
export const REGISTRY_KINDS = ['entities', 'sources', 'feature-views', 'feature-services'] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

/** The payload keys of each kind, in the order objects are applied. */
export const PAYLOAD_KEYS = ['entities', 'sources', 'featureViews', 'featureServices'] as const;
export type PayloadKey = (typeof PAYLOAD_KEYS)[number];

/** Names of the objects an apply adds, changes and removes for one kind. */
export interface KindPlan {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface ViewPlan extends KindPlan {
  /** The new transform version of every added view and every changed view whose transform changed. */
  transformVersions: Record<string, number>;
}

export interface Plan {
  entities: KindPlan;
  sources: KindPlan;
  featureViews: ViewPlan;
  featureServices: KindPlan;
}

/** What the registry holds now, as far as planning needs it. */
export interface RegistryState {
  entities: ReadonlyMap<string, EntityDef>;
  sources: ReadonlyMap<string, SourceDef>;
  views: ReadonlyMap<string, { definition: FeatureViewDef; transformVersion: number }>;
  services: ReadonlyMap<string, FeatureServiceDef>;
  /** The highest recorded version of each view name, including views removed since. */
  latestVersions: ReadonlyMap<string, number>;
}

export interface ApplyPlan {
  plan: Plan;
  /** The validated definitions, views in topological order (upstream first). */
  definitions: Definitions;
  /** The transform version of every view after the apply. */
  versions: ReadonlyMap<string, number>;
}

/** An empty registry. */
export function emptyState(): RegistryState {
  return {
    entities: new Map(),
    sources: new Map(),
    views: new Map(),
    services: new Map(),
    latestVersions: new Map(),
  };
}

/** Validates a whole project's definitions (JSON or helper output) and plans applying them over `current`. */
export function planApply(current: RegistryState, input: unknown): ApplyPlan {
  const definitions = validateDefinitions(parseDefinitions(input), current);
  const currentViews = new Map([...current.views].map(([name, v]) => [name, v.definition]));
  const featureViews: ViewPlan = { ...diff(currentViews, definitions.featureViews), transformVersions: {} };
  const versions = new Map<string, number>();
  for (const view of definitions.featureViews) {
    const before = current.views.get(view.name);
    const latest = Math.max(before?.transformVersion ?? 0, current.latestVersions.get(view.name) ?? 0);
    const isNewTransform =
      !before || canonical(transformOf(before.definition)) !== canonical(transformOf(view));
    const version = isNewTransform ? latest + 1 : before.transformVersion;
    versions.set(view.name, version);
    if (isNewTransform) featureViews.transformVersions[view.name] = version;
  }
  return {
    definitions,
    versions,
    plan: {
      entities: diff(current.entities, definitions.entities),
      sources: diff(current.sources, definitions.sources),
      featureViews,
      featureServices: diff(current.services, definitions.featureServices),
    },
  };
}

/** The parts of a view that decide the rows it computes: a change to any of them is a new transform version. */
function transformOf(view: FeatureViewDef): unknown {
  return {
    sql: view.sql,
    transform: view.transform,
    features: view.features,
    source: view.source,
    views: view.views,
    entities: view.entities,
  };
}

function diff<T extends { name: string }>(current: ReadonlyMap<string, T>, desired: readonly T[]): KindPlan {
  const names = new Set(desired.map((d) => d.name));
  const plan: KindPlan = { added: [], changed: [], removed: [] };
  for (const def of desired) {
    const before = current.get(def.name);
    if (!before) plan.added.push(def.name);
    else if (canonical(before) !== canonical(def)) plan.changed.push(def.name);
  }
  plan.removed = [...current.keys()].filter((name) => !names.has(name)).sort();
  return plan;
}

/** JSON with object keys sorted and undefined dropped: equal definitions give equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Parses the apply payload with the zod schema; the error names the first bad field by its JSON path. */
export function parseDefinitions(input: unknown): Definitions {
  const result = definitionsSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { field: jsonPath([...issue.path, issue.keys[0] ?? '']), message: 'unknown field; remove it' };
    }
    const absent = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    const message = absent
      ? `is required: send ${issue.expected === 'array' ? 'an' : 'a'} ${issue.expected}`
      : issue.message;
    return { field: jsonPath(issue.path), message };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problems, listed in details.issues)` : '';
  return fail(first.field, `${first.message}${more}`, issues);
}

function fail(field: string, message: string, issues: unknown): never {
  throw new MeridianError('INVALID_ARGUMENT', `${field}: ${message}`, { field, issues });
}

/** `['featureViews', 0, 'features', 'amount']` as `featureViews[0].features.amount`; the root is `body`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || 'body';
}

/**
 * Checks what the schema cannot: unique names, references (naming the object that still uses one
 * this apply would remove), no cycles among views, projected fields and join keys present in the
 * input with the same types, and feature references of services. Returns views upstream first.
 */
export function validateDefinitions(defs: Definitions, current: RegistryState = emptyState()): Definitions {
  for (const key of PAYLOAD_KEYS) checkUnique(key, defs[key]);
  const index = new Map(defs.featureViews.map((v, i) => [v.name, i]));
  defs.featureViews.forEach((view, i) => {
    checkViewReferences(view, `featureViews[${i}]`, defs, index, current);
  });
  const featureViews = topologicalOrder(defs.featureViews);
  checkViewFields(featureViews, defs, index);
  checkServices(defs, index, current);
  return { ...defs, featureViews };
}

function checkUnique(key: PayloadKey, defs: readonly { name: string }[]): void {
  const seen = new Map<string, number>();
  defs.forEach((def, i) => {
    const first = seen.get(def.name);
    if (first !== undefined) {
      throw invalidArgument(
        `${key}[${i}].name`,
        `"${def.name}" is defined twice (also at ${key}[${first}])`,
        'give each object a unique name',
      );
    }
    seen.set(def.name, i);
  });
}

function missing(field: string, what: string, name: string, registered: boolean, user: string): never {
  if (registered) {
    throw invalidArgument(
      field,
      `cannot remove ${what} "${name}": ${user} still uses it`,
      `keep ${what} "${name}" in the definitions, or remove ${user} as well`,
    );
  }
  throw invalidArgument(
    field,
    `no ${what} "${name}" in the definitions`,
    `define ${what} "${name}" or fix the name`,
  );
}

function checkViewReferences(
  view: FeatureViewDef,
  at: string,
  defs: Definitions,
  index: ReadonlyMap<string, number>,
  current: RegistryState,
): void {
  const user = `feature view "${view.name}"`;
  view.entities.forEach((entity, j) => {
    if (!defs.entities.some((e) => e.name === entity))
      missing(`${at}.entities[${j}]`, 'entity', entity, current.entities.has(entity), user);
  });
  const source = view.source;
  if (source && !defs.sources.some((s) => s.name === source))
    missing(`${at}.source`, 'source', source, current.sources.has(source), user);
  view.views?.forEach((upstream, j) => {
    if (!index.has(upstream))
      missing(`${at}.views[${j}]`, 'feature view', upstream, current.views.has(upstream), user);
  });
  if (view.sql) checkPlaceholders(view.sql, at, view.source ? ['source', view.source] : (view.views ?? []));
  if (view.transform) checkTransform(view.transform, at);
}

/** Parses (never runs) a TypeScript transform's text, so a broken one fails at apply, not at ingest. */
function checkTransform(text: string, at: string): void {
  const problem = transformSyntaxProblem(text);
  if (problem === undefined) return;
  throw invalidArgument(
    `${at}.transform`,
    `is not a JavaScript function (${problem})`,
    'send the text of a self-contained function, e.g. "(rows) => rows.map((r) => ({ ...r }))"; it is compiled alone in a worker thread, so it cannot use imports or variables from outside it',
  );
}

function checkPlaceholders(sql: string, at: string, allowed: readonly string[]): void {
  for (const match of sql.matchAll(/\{\{\s*([^}\s]*)\s*\}\}/g)) {
    if (!allowed.includes(match[1]!)) {
      const use = allowed.map((a) => `{{${a}}}`).join(' or ');
      throw invalidArgument(`${at}.sql`, `unknown placeholder {{${match[1]}}}`, `read the input with ${use}`);
    }
  }
}

/** Views ordered upstream first (input order otherwise); a cycle is an error naming it, `a -> b -> a`. */
export function topologicalOrder<V extends Pick<FeatureViewDef, 'name' | 'views'>>(views: readonly V[]): V[] {
  const byName = new Map(views.map((v, i) => [v.name, { view: v, index: i }]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const ordered: V[] = [];
  const visit = (view: V): void => {
    if (state.get(view.name) === 'done') return;
    if (state.get(view.name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(view.name)), view.name];
      throw invalidArgument(
        `featureViews[${byName.get(view.name)?.index}].views`,
        `feature views form a cycle: ${cycle.join(' -> ')}`,
        'a view cannot read itself, directly or through other views; remove one of these upstream views',
      );
    }
    state.set(view.name, 'visiting');
    stack.push(view.name);
    for (const upstream of view.views ?? []) {
      const next = byName.get(upstream);
      if (next) visit(next.view);
    }
    stack.pop();
    state.set(view.name, 'done');
    ordered.push(view);
  };
  for (const view of views) visit(view);
  return ordered;
}

interface ViewInput {
  /** What the view reads, for messages: `source "activity"` or `views "a", "b"`. */
  label: string;
  fields: Record<string, FeatureType>;
  /** Where join keys come from (the source, or the first upstream view, as `resolveView` does). */
  keyLabel: string;
  keys: Record<string, FeatureType>;
}

function inputOf(
  view: FeatureViewDef,
  sources: ReadonlyMap<string, SourceDef>,
  resolved: ReadonlyMap<string, ResolvedView>,
): ViewInput {
  if (view.source) {
    const label = `source "${view.source}"`;
    const schema = sources.get(view.source)?.schema ?? {};
    return { label, fields: schema, keyLabel: label, keys: schema };
  }
  const upstream = (view.views ?? []).map((name) => resolved.get(name)!);
  const keysOf = (v: ResolvedView) => Object.fromEntries(v.keys.map((k) => [k.name, k.type]));
  return {
    label: `views ${upstream.map((v) => `"${v.name}"`).join(', ')}`,
    fields: Object.assign({}, ...upstream.map((v) => ({ ...keysOf(v), ...v.features }))),
    keyLabel: `view "${upstream[0]?.name}"`,
    keys: upstream[0] ? keysOf(upstream[0]) : {},
  };
}

function checkViewFields(
  ordered: readonly FeatureViewDef[],
  defs: Definitions,
  index: ReadonlyMap<string, number>,
): void {
  const entities = new Map(defs.entities.map((e) => [e.name, e]));
  const sources = new Map(defs.sources.map((s) => [s.name, s]));
  const resolved = new Map<string, ResolvedView>();
  for (const view of ordered) {
    const at = `featureViews[${index.get(view.name)}]`;
    const input = inputOf(view, sources, resolved);
    view.entities.forEach((name, j) => {
      for (const key of entities.get(name)?.joinKeys ?? []) {
        if (!(key in input.keys)) {
          throw invalidArgument(
            `${at}.entities[${j}]`,
            `join key "${key}" of entity "${name}" is not a field of ${input.keyLabel}`,
            `add "${key}" to ${input.keyLabel} or use another entity`,
          );
        }
      }
    });
    if (!view.sql && !view.transform) {
      // A projection of several views maps each upstream view's rows, so each must have every field.
      const inputs = view.source
        ? [input]
        : (view.views ?? []).map((name) => inputOf({ ...view, views: [name] }, sources, resolved));
      for (const one of inputs) checkProjection(view.features, `${at}.features`, one);
    }
    resolved.set(view.name, resolveView(view, 1, entities, sources, resolved));
  }
}

function checkProjection(features: Record<string, FeatureType>, at: string, input: ViewInput): void {
  for (const [name, type] of Object.entries(features)) {
    const found = input.fields[name];
    if (!found) {
      throw invalidArgument(
        `${at}.${name}`,
        `${input.label} has no field "${name}" (it has ${Object.keys(input.fields).join(', ')})`,
        'project one of those fields, or compute the feature with "sql" or "transform"',
      );
    }
    if (found !== type) {
      throw invalidArgument(
        `${at}.${name}`,
        `is ${found} in ${input.label}, not ${type}`,
        `declare it as ${found}, or convert it with "sql" or "transform"`,
      );
    }
  }
}

function checkServices(defs: Definitions, index: ReadonlyMap<string, number>, current: RegistryState): void {
  defs.featureServices.forEach((service, i) => {
    service.features.forEach((ref, j) => {
      const at = `featureServices[${i}].features[${j}]`;
      const [viewName = '', feature = ''] = ref.split(':');
      const position = index.get(viewName);
      const view = position === undefined ? undefined : defs.featureViews[position];
      if (!view)
        missing(
          at,
          'feature view',
          viewName,
          current.views.has(viewName),
          `feature service "${service.name}"`,
        );
      if (feature !== '*' && !(feature in view.features)) {
        throw invalidArgument(
          at,
          `feature view "${viewName}" has no feature "${feature}" (it has ${Object.keys(view.features).join(', ')})`,
          `name one of its features, or "${viewName}:*" for all of them`,
        );
      }
    });
  });
}
