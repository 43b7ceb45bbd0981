/**
 * Turns one batch of a source's events into the rows of each view reading it: a view without a
 * transform projects its join keys and features from each event; a view with `sql` runs the query
 * in DuckDB over the whole batch at once (set-based, never per event). TypeScript transforms are in
 * ts-transform.ts, views over views in view-dag.ts.
 */
import { MeridianError } from '../../core/errors.js';
import type { OfflineSchema, OfflineStore } from '../../stores/offline/port.js';
import type { ResolvedView } from '../catalog.js';
import type { FeatureType, SourceDef } from '../definitions.js';
import { nextCreatedMicros } from './created-clock.js';
import type { ParsedEvent } from './events.js';

/** One computed view row: values in store types (int64 bigint, timestamp epoch ms). */
export interface ViewRow {
  keys: unknown[];
  features: Record<string, unknown>;
  /** Event timestamp, epoch ms. */
  eventTime: number;
  /** created_timestamp, epoch µs: later rows of one batch get later ones. */
  created: bigint;
}

/** Projects a view without a transform: its join keys and features, straight from each event. */
export function projectView(
  view: ResolvedView,
  source: SourceDef,
  events: readonly ParsedEvent[],
  created: readonly bigint[],
): ViewRow[] {
  const missing = [...view.keys.map((k) => k.name), ...Object.keys(view.features)].filter(
    (name) => !Object.hasOwn(source.schema, name),
  );
  if (missing.length > 0) {
    throw new MeridianError(
      'FAILED_PRECONDITION',
      `feature view "${view.name}" projects ${missing.join(', ')}, which source "${source.name}" does not have; add a sql transform or fix the view`,
      { view: view.name },
    );
  }
  const featureNames = Object.keys(view.features);
  return events.map((event, i) => {
    const features: Record<string, unknown> = {};
    for (const name of featureNames) features[name] = event.values[name];
    return {
      keys: view.keys.map((k) => event.values[k.name]),
      features,
      eventTime: event.eventTime,
      created: created[i]!,
    };
  });
}

/** DuckDB column types each feature type is cast to, so a SQL view's output has the view's types. */
const SQL_TYPES: Record<FeatureType, string> = {
  int64: 'BIGINT',
  int32: 'INTEGER',
  float64: 'DOUBLE',
  float32: 'FLOAT',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  'float64[]': 'DOUBLE[]',
};

const quote = (name: string): string => `"${name}"`;

/** A batch staged as a scratch table of the source's columns, for SQL views to read as `{{source}}`. */
export interface StagedBatch {
  table: string;
  drop(): Promise<void>;
}

/** Stages a batch's events into a scratch table named after the run, dropped after the transforms. */
export async function stageBatch(
  offline: OfflineStore,
  source: SourceDef,
  events: readonly ParsedEvent[],
  runId: string,
): Promise<StagedBatch> {
  const table = `stg_${runId.replaceAll('-', '')}`;
  await offline.ensureTable(table, source.schema as OfflineSchema);
  const drop = async () => {
    await offline.query(`DROP TABLE IF EXISTS ${quote(table)}`);
  };
  try {
    await offline.append(
      table,
      events.map((e) => e.values),
    );
  } catch (err) {
    await drop();
    throw err;
  }
  return { table, drop };
}

/** What a SQL view reads: scratch tables by placeholder, and the timestamp column they carry. */
export interface SqlInput {
  /** Placeholder name (`source`, or an upstream view's name) -> scratch table. */
  tables: Record<string, string>;
  /** The source's timestamp field, or `event_timestamp` over upstream views. */
  timestampField: string;
}

/** The scratch tables of a view that reads the source directly: `{{source}}` and `{{<source name>}}`. */
export function sourceSqlInput(source: SourceDef, staged: StagedBatch): SqlInput {
  return {
    tables: { source: staged.table, [source.name]: staged.table },
    timestampField: source.timestampField,
  };
}

/** The columns a SQL view must select: its join keys, its features and the input's timestamp field. */
function requiredColumns(view: ResolvedView, timestampField: string): Map<string, FeatureType> {
  const columns = new Map<string, FeatureType>();
  for (const key of view.keys) columns.set(key.name, key.type);
  for (const [name, type] of Object.entries(view.features)) columns.set(name, type);
  columns.set(timestampField, 'timestamp');
  return columns;
}

function sqlError(view: ResolvedView, timestampField: string, problem: string): MeridianError {
  return new MeridianError(
    'FAILED_PRECONDITION',
    `feature view "${view.name}": its sql ${problem}; a SQL view selects exactly its join keys, its features and the input's timestamp field "${timestampField}" (stored as event_timestamp), so fix the sql and apply it again`,
    { view: view.name },
  );
}

/** Checks the query's output columns by DESCRIBE before running it. */
async function checkOutputColumns(
  offline: OfflineStore,
  view: ResolvedView,
  timestampField: string,
  sql: string,
  required: Map<string, FeatureType>,
): Promise<void> {
  const described = await offline.query<{ column_name: string }>(`DESCRIBE SELECT * FROM (${sql}) AS t`);
  const names = described.map((row) => row.column_name);
  const missing = [...required.keys()].filter((name) => !names.includes(name));
  if (missing.length > 0) throw sqlError(view, timestampField, `does not select ${missing.join(', ')}`);
  const extra = names.filter((name) => !required.has(name));
  if (extra.length > 0)
    throw sqlError(view, timestampField, `selects ${extra.join(', ')}, which the view does not have`);
}

const toMs = (value: unknown): unknown => (value instanceof Date ? value.getTime() : value);

/** The view's SQL with each `{{placeholder}}` replaced by its scratch table. */
function boundSql(view: ResolvedView, input: SqlInput): string {
  const text = view.sql ?? '';
  let reads = false;
  const sql = text.replace(/\{\{\s*([^}\s]*)\s*\}\}/g, (whole, name: string) => {
    const table = input.tables[name];
    if (!table) return whole;
    reads = true;
    return quote(table);
  });
  if (!reads) {
    const names = Object.keys(input.tables).map((name) => `{{${name}}}`);
    throw sqlError(view, input.timestampField, `does not read its input (${names.join(' or ')})`);
  }
  return sql;
}

/**
 * Runs a view's SQL over scratch tables holding only this batch's rows: `{{source}}` for a view of
 * a source, `{{upstream_view}}` (join keys, features, event_timestamp) for a view of views. The
 * output names its event timestamp by selecting the input's timestamp field under its own name
 * (e.g. `ts`, or `max(ts) AS ts` in an aggregate); it is stored as event_timestamp. Output rows get
 * created timestamps in output order, so, as for projected views, a correction later in the batch
 * (DuckDB keeps insertion order for a plain scan) wins ties.
 */
export async function runSqlView(
  offline: OfflineStore,
  view: ResolvedView,
  input: SqlInput,
): Promise<ViewRow[]> {
  const sql = boundSql(view, input);
  const tsField = input.timestampField;
  const required = requiredColumns(view, tsField);
  const rows = await withViewContext(view, async () => {
    await checkOutputColumns(offline, view, tsField, sql, required);
    const casts = [...required].map(
      ([name, type]) => `CAST(${quote(name)} AS ${SQL_TYPES[type]}) AS ${quote(name)}`,
    );
    return offline.query(`SELECT ${casts.join(', ')} FROM (${sql}) AS t`);
  });
  const timestampFeatures = Object.keys(view.features).filter((f) => view.features[f] === 'timestamp');
  return rows.map((row, i) => {
    const features: Record<string, unknown> = {};
    for (const name of Object.keys(view.features)) features[name] = row[name];
    for (const name of timestampFeatures) features[name] = toMs(features[name]);
    const keys = view.keys.map((k) => toMs(row[k.name]));
    const eventTime = toMs(row[tsField]);
    if (keys.some((k) => k === null || k === undefined || k === '') || typeof eventTime !== 'number') {
      throw new MeridianError(
        'INVALID_ARGUMENT',
        `feature view "${view.name}": its sql returned a null or empty join key, or a null ${tsField}, in output row ${i}; nothing was written, so fix the events or filter such rows in the sql`,
        { field: 'events', view: view.name },
      );
    }
    return { keys, features, eventTime, created: nextCreatedMicros() };
  });
}

/** Prefixes a failing query's message with the view, keeping its code. */
async function withViewContext<T>(view: ResolvedView, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof MeridianError) || err.code === 'FAILED_PRECONDITION') throw err;
    throw new MeridianError(
      err.code,
      `feature view "${view.name}" transform failed: ${err.message}`,
      { ...err.details, view: view.name },
      { cause: err },
    );
  }
}
