/**
 * The feature registry: entities, sources, feature views (with their transform versions and
 * history) and feature services in the state store. Reads come from an in-memory snapshot, reloaded
 * after each apply and on `refresh()`, so ingestion and retrieval never wait on SQL.
 */
import { MeridianError } from '../core/errors.js';
import type { SqlExecutor, StateStore } from '../stores/state/port.js';
import { type Catalog, type ResolvedView, resolveView } from './catalog.js';
import type { EntityDef, FeatureServiceDef, FeatureViewDef, SourceDef } from './definitions.js';
import { FEATURE_STORE_MIGRATIONS } from './migrations.js';
import {
  type ApplyPlan,
  type Plan,
  parseDefinitions,
  planApply,
  type RegistryKind,
  type RegistryState,
  topologicalOrder,
} from './plan.js';

/** A registered object as the API shows it: its definition plus when it was created and last changed. */
export type Described<T> = T & { createdAt: string; updatedAt: string };
export type DescribedView = Described<FeatureViewDef> & { transformVersion: number };
export interface ViewVersion {
  version: number;
  appliedAt: string;
  definition: FeatureViewDef;
}

export interface ApplyResult {
  plan: Plan;
  /** false for a dry run: nothing was written. */
  applied: boolean;
}

interface Row {
  kind: 'entity' | 'source' | 'feature_view' | 'feature_service';
  name: string;
  definition: unknown;
  transform_version: number | null;
  created_at: Date;
  updated_at: Date;
}

interface Snapshot {
  entities: Map<string, Described<EntityDef>>;
  sources: Map<string, Described<SourceDef>>;
  views: Map<string, DescribedView>;
  services: Map<string, Described<FeatureServiceDef>>;
  resolved: Map<string, ResolvedView>;
  latestVersions: Map<string, number>;
}

const KIND_OF_ROW = {
  entities: 'entity',
  sources: 'source',
  featureViews: 'feature_view',
  featureServices: 'feature_service',
} as const;

const SINGULAR = {
  entities: 'entity',
  sources: 'source',
  'feature-views': 'feature view',
  'feature-services': 'feature service',
} as const;

/** Serialises applies across processes sharing one PostgreSQL ("fsregist" in ASCII). */
const APPLY_LOCK = '7409261306281657204';

export class FeatureRegistry implements Catalog {
  #snapshot: Snapshot;
  readonly #listeners = new Set<() => Promise<void> | void>();

  private constructor(
    private readonly state: StateStore,
    snapshot: Snapshot,
  ) {
    this.#snapshot = snapshot;
  }

  /** Migrates the registry tables (versions 100-199) and loads the snapshot. */
  static async open(state: StateStore): Promise<FeatureRegistry> {
    await state.migrate(FEATURE_STORE_MIGRATIONS);
    return new FeatureRegistry(state, await loadSnapshot(state));
  }

  /** Reloads the snapshot, e.g. after another process applied definitions to a shared PostgreSQL. */
  async refresh(): Promise<void> {
    this.#snapshot = await loadSnapshot(this.state);
    for (const listener of this.#listeners) await listener();
  }

  /** Calls `listener` after every reload (each apply); returns the function that unsubscribes it. */
  onRefresh(listener: () => Promise<void> | void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** What applying these definitions would do; validates them and writes nothing. */
  async plan(definitions: unknown): Promise<Plan> {
    return (await this.apply(definitions, { dryRun: true })).plan;
  }

  /**
   * Makes the registry match the definitions of the whole project: objects absent from them are
   * removed. Validation errors name the JSON path; the write is one transaction.
   */
  async apply(definitions: unknown, options: { dryRun?: boolean } = {}): Promise<ApplyResult> {
    const parsed = parseDefinitions(definitions);
    const dryRun = options.dryRun === true;
    const plan = await this.state.transaction(async (tx) => {
      if (!dryRun) await tx.query(`SELECT pg_advisory_xact_lock(${APPLY_LOCK})`);
      const planned = planApply(stateOf(await loadSnapshot(tx)), parsed);
      if (!dryRun) await write(tx, planned);
      return planned.plan;
    });
    if (!dryRun) await this.refresh();
    return { plan, applied: !dryRun };
  }

  entity(name: string): EntityDef | undefined {
    return this.#snapshot.entities.get(name);
  }

  source(name: string): SourceDef | undefined {
    return this.#snapshot.sources.get(name);
  }

  view(name: string): ResolvedView | undefined {
    return this.#snapshot.resolved.get(name);
  }

  service(name: string): FeatureServiceDef | undefined {
    return this.#snapshot.services.get(name);
  }

  /** Names of every applied source. */
  sourceNames(): string[] {
    return [...this.#snapshot.sources.keys()];
  }

  viewsOfSource(source: string): ResolvedView[] {
    return this.views().filter((v) => v.source === source);
  }

  /** Every view, upstream views first. */
  views(): ResolvedView[] {
    return [...this.#snapshot.resolved.values()];
  }

  /** Every object of a kind with its timestamps (views with their transform version), by name. */
  list(kind: RegistryKind): Described<object>[] {
    const all = [...this.#mapOf(kind).values()];
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One object; a view also with every version it has had. NOT_FOUND names the object. */
  async describe(kind: RegistryKind, name: string): Promise<Described<object>> {
    const found = this.#mapOf(kind).get(name);
    if (!found) {
      const what = SINGULAR[kind];
      throw new MeridianError(
        'NOT_FOUND',
        `no ${what} "${name}" in the registry; list them with GET /v1/${kind}`,
        {
          field: 'name',
          kind,
          name,
        },
      );
    }
    if (kind !== 'feature-views') return found;
    const withVersions: Described<object> & { versions: ViewVersion[] } = {
      ...found,
      versions: await this.versions(name),
    };
    return withVersions;
  }

  /** The recorded versions of a view (lineage), oldest first; kept after the view is removed. */
  async versions(view: string): Promise<ViewVersion[]> {
    const { rows } = await this.state.query<{ version: number; applied_at: Date; definition: unknown }>(
      'SELECT version, applied_at, definition FROM feature_view_versions WHERE view = $1 ORDER BY version',
      [view],
    );
    return rows.map((r) => ({
      version: Number(r.version),
      appliedAt: r.applied_at.toISOString(),
      definition: fromJson(r.definition) as FeatureViewDef,
    }));
  }

  #mapOf(kind: RegistryKind): ReadonlyMap<string, Described<{ name: string }>> {
    const s = this.#snapshot;
    return {
      entities: s.entities,
      sources: s.sources,
      'feature-views': s.views,
      'feature-services': s.services,
    }[kind];
  }
}

/** The PostgreSQL driver parses json columns; keep a string-typed fallback for drivers that do not. */
function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

async function loadSnapshot(sql: SqlExecutor): Promise<Snapshot> {
  const { rows } = await sql.query<Row>(
    'SELECT kind, name, definition, transform_version, created_at, updated_at FROM feature_registry ORDER BY name',
  );
  const latest = await sql.query<{ view: string; version: number }>(
    'SELECT view, max(version) AS version FROM feature_view_versions GROUP BY view',
  );
  const snapshot: Snapshot = {
    entities: new Map(),
    sources: new Map(),
    views: new Map(),
    services: new Map(),
    resolved: new Map(),
    latestVersions: new Map(latest.rows.map((r) => [r.view, Number(r.version)])),
  };
  for (const row of rows) {
    const described = {
      ...(fromJson(row.definition) as { name: string }),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
    if (row.kind === 'entity') snapshot.entities.set(row.name, described as Described<EntityDef>);
    if (row.kind === 'source') snapshot.sources.set(row.name, described as Described<SourceDef>);
    if (row.kind === 'feature_service')
      snapshot.services.set(row.name, described as Described<FeatureServiceDef>);
    if (row.kind === 'feature_view') {
      const view = { ...described, transformVersion: Number(row.transform_version) } as DescribedView;
      snapshot.views.set(row.name, view);
    }
  }
  for (const view of topologicalOrder([...snapshot.views.values()])) {
    const def = definitionOf(view) as FeatureViewDef;
    snapshot.resolved.set(
      view.name,
      resolveView(def, view.transformVersion, snapshot.entities, snapshot.sources, snapshot.resolved),
    );
  }
  return snapshot;
}

/** A described object without the registry's own fields: the definition as applied. */
function definitionOf<T extends object>(described: T): object {
  const {
    createdAt: _c,
    updatedAt: _u,
    transformVersion: _t,
    ...definition
  } = described as T & {
    createdAt?: string;
    updatedAt?: string;
    transformVersion?: number;
  };
  return definition;
}

function stateOf(snapshot: Snapshot): RegistryState {
  const defs = <T extends object>(map: Map<string, T>) =>
    new Map([...map].map(([name, d]) => [name, definitionOf(d)]));
  return {
    entities: defs(snapshot.entities) as RegistryState['entities'],
    sources: defs(snapshot.sources) as RegistryState['sources'],
    services: defs(snapshot.services) as RegistryState['services'],
    views: new Map(
      [...snapshot.views].map(([name, v]) => [
        name,
        { definition: definitionOf(v) as FeatureViewDef, transformVersion: v.transformVersion },
      ]),
    ),
    latestVersions: snapshot.latestVersions,
  };
}

async function write(tx: SqlExecutor, { plan, definitions, versions }: ApplyPlan): Promise<void> {
  for (const key of ['entities', 'sources', 'featureViews', 'featureServices'] as const) {
    const kind = KIND_OF_ROW[key];
    const touched = new Set([...plan[key].added, ...plan[key].changed]);
    for (const name of plan[key].removed) {
      await tx.query('DELETE FROM feature_registry WHERE kind = $1 AND name = $2', [kind, name]);
    }
    for (const def of definitions[key]) {
      if (!touched.has(def.name)) continue;
      const version = key === 'featureViews' ? (versions.get(def.name) ?? null) : null;
      await tx.query(
        `INSERT INTO feature_registry (kind, name, definition, transform_version) VALUES ($1, $2, $3::json, $4)
         ON CONFLICT (kind, name) DO UPDATE
           SET definition = EXCLUDED.definition, transform_version = EXCLUDED.transform_version, updated_at = now()`,
        [kind, def.name, JSON.stringify(def), version],
      );
    }
  }
  for (const view of definitions.featureViews) {
    const version = plan.featureViews.transformVersions[view.name];
    if (version === undefined) continue;
    await tx.query(
      'INSERT INTO feature_view_versions (view, version, definition) VALUES ($1, $2, $3::json)',
      [view.name, version, JSON.stringify(view)],
    );
  }
}
