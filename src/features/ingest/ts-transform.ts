/**
 * Runs a view's TypeScript transform on the worker pool and checks what it returns. The function
 * receives rows with timestamps as `Date`, int64 as `bigint` and float32 rounded to float32, built
 * the same way from a push and from a file, so both paths give it identical input. A view of a
 * source may be given its batch in chunks of `TRANSFORM_CHUNK_ROWS`, transformed in parallel; a
 * transform must therefore map rows (or aggregate within what it is given), never assume it sees a
 * whole push or file.
 */
import { MeridianError } from '../../core/errors.js';
import type { ResolvedView } from '../catalog.js';
import type { FeatureType, Schema } from '../definitions.js';
import { nextCreatedMicros } from './created-clock.js';
import type { ViewRow } from './transform.js';
import type { TransformAnswer, TransformPool } from './transform-pool.js';

/** Rows per worker task: big enough to amortise the structured clone, small enough to spread over threads. */
export const TRANSFORM_CHUNK_ROWS = 4096;

type Row = Record<string, unknown>;

/** A value in store types (timestamp epoch ms or Date, int64 bigint) as a transform receives it. */
export function transformValue(type: FeatureType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'timestamp') return value instanceof Date ? value : new Date(value as number);
  if (type === 'int64') return typeof value === 'bigint' ? value : BigInt(value as number);
  if (type === 'float32') return Math.fround(value as number);
  if (type === 'float64[]') return [...(value as number[])];
  return value;
}

/** A source row (store types) as a transform receives it. */
export function transformInputRow(schema: Schema, values: Row): Row {
  const out: Row = {};
  for (const [name, type] of Object.entries(schema)) out[name] = transformValue(type, values[name]);
  return out;
}

/** A view's computed row as a downstream transform receives it: keys, features, event_timestamp. */
export function viewRowAsInput(view: ResolvedView, row: ViewRow): Row {
  const out: Row = {};
  view.keys.forEach((key, i) => {
    out[key.name] = transformValue(key.type, row.keys[i]);
  });
  for (const [name, type] of Object.entries(view.features))
    out[name] = transformValue(type, row.features[name]);
  out.event_timestamp = new Date(row.eventTime);
  return out;
}

const BAD = Symbol('bad');
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Converts a returned value to the store's type (int64 bigint, timestamp epoch ms), or BAD. */
function storeValue(type: FeatureType, v: unknown): unknown {
  switch (type) {
    case 'int64':
      return typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v as number) : BAD;
    case 'int32':
      return Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31 ? v : BAD;
    case 'float64':
    case 'float32':
      return isNumber(v) ? v : BAD;
    case 'string':
      return typeof v === 'string' ? v : BAD;
    case 'bool':
      return typeof v === 'boolean' ? v : BAD;
    case 'timestamp':
      return v instanceof Date && isNumber(v.getTime()) ? v.getTime() : isNumber(v) ? v : BAD;
    case 'float64[]':
      return Array.isArray(v) && v.every(isNumber) ? v : BAD;
  }
}

const SELF_CONTAINED =
  'a transform is stored as its source text and compiled alone in a worker thread, so it must be self-contained: no imports or variables from outside the function';

function failed(
  view: ResolvedView,
  problem: string,
  code: 'FAILED_PRECONDITION' | 'INVALID_ARGUMENT',
): MeridianError {
  return new MeridianError(
    code,
    `feature view "${view.name}": its transform ${problem}; nothing was written`,
    {
      view: view.name,
    },
  );
}

/**
 * A throw is FAILED_PRECONDITION, not INVALID_ARGUMENT: the events matched their source's schema,
 * and it is the applied definition that cannot handle them, so resending them cannot help until
 * the view is fixed and applied again.
 */
function answerError(view: ResolvedView, answer: Exclude<TransformAnswer, { ok: true }>): MeridianError {
  const thrown = `${answer.name}: ${answer.message}`;
  if (answer.stage === 'compile')
    return failed(view, `does not compile (${thrown}); ${SELF_CONTAINED}`, 'FAILED_PRECONDITION');
  if (answer.stage === 'output') return failed(view, answer.message, 'FAILED_PRECONDITION');
  const hint = answer.name === 'ReferenceError' ? `; ${SELF_CONTAINED}` : '';
  return failed(view, `threw ${thrown}${hint}`, 'FAILED_PRECONDITION');
}

/** Runs one task, turning a failure (including one to clone the output) into the view's error. */
async function runTask(pool: TransformPool, view: ResolvedView, rows: Row[], byView?: Record<string, Row[]>) {
  let answer: TransformAnswer;
  try {
    answer = await pool.run({
      key: `${view.name}@${view.transformVersion}`,
      text: view.transform ?? '',
      rows,
      ...(byView ? { byView } : {}),
    });
  } catch (err) {
    // A value structured clone refuses (a function, a symbol) rejects with a bare object, not an Error.
    const message = err instanceof Error ? err.message : 'a value in it cannot be cloned, such as a function';
    throw failed(
      view,
      `output could not be passed back from its worker thread (${message}); return plain rows of numbers, strings, booleans, bigints, Dates and arrays`,
      'FAILED_PRECONDITION',
    );
  }
  if (!answer.ok) throw answerError(view, answer);
  return answer.rows;
}

/** Checks one output row's columns and converts it to a view row. */
function toViewRow(view: ResolvedView, timestampField: string, row: unknown, i: number): ViewRow {
  if (typeof row !== 'object' || row === null || Array.isArray(row))
    throw failed(
      view,
      `returned ${row === null ? 'null' : typeof row} as output row ${i}, not an object`,
      'FAILED_PRECONDITION',
    );
  const values = row as Row;
  const required = [...view.keys.map((k) => k.name), ...Object.keys(view.features), timestampField];
  const missing = required.filter((name) => !(name in values));
  const extra = Object.keys(values).filter((name) => !required.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`lacks ${missing.join(', ')}`] : []),
      ...(extra.length > 0 ? [`has ${extra.join(', ')}, which the view does not have`] : []),
    ];
    throw failed(
      view,
      `output row ${i} ${problems.join(' and ')}: a transform returns exactly the join keys, the features and the timestamp field "${timestampField}"`,
      'FAILED_PRECONDITION',
    );
  }
  const convert = (name: string, type: FeatureType, nullable: boolean) => {
    const value = values[name];
    if ((value === null || value === undefined) && nullable) return null;
    const converted = value === null || value === undefined || value === '' ? BAD : storeValue(type, value);
    if (converted !== BAD) return converted;
    const shown = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
    throw failed(
      view,
      `returned ${shown} for ${name} in output row ${i}, which is not a valid ${type}`,
      nullable ? 'FAILED_PRECONDITION' : 'INVALID_ARGUMENT',
    );
  };
  const features: Row = {};
  for (const [name, type] of Object.entries(view.features)) features[name] = convert(name, type, true);
  return {
    keys: view.keys.map((k) => convert(k.name, k.type, false)),
    features,
    eventTime: convert(timestampField, 'timestamp', false) as number,
    created: 0n,
  };
}

/**
 * Runs a view's transform over its input rows (a source's, or its upstream views' concatenated,
 * with `byView` giving each upstream view's rows). Output rows get created timestamps in order.
 */
export async function runTsView(
  pool: TransformPool,
  view: ResolvedView,
  input: { rows: Row[]; byView?: Record<string, Row[]>; timestampField: string },
): Promise<ViewRow[]> {
  if (input.rows.length === 0) return [];
  const chunks: Row[][] = [];
  if (input.byView) chunks.push(input.rows);
  else
    for (let i = 0; i < input.rows.length; i += TRANSFORM_CHUNK_ROWS)
      chunks.push(input.rows.slice(i, i + TRANSFORM_CHUNK_ROWS));
  const outputs = await Promise.all(chunks.map((rows) => runTask(pool, view, rows, input.byView)));
  const out = outputs.flat().map((row, i) => toViewRow(view, input.timestampField, row, i));
  for (const row of out) row.created = nextCreatedMicros();
  return out;
}
