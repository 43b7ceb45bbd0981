/**
 * `meridian drift --reference a.parquet --current b.parquet`: the ad-hoc drift report of two files
 * (CSV, Parquet or JSON lines, read with an in-memory DuckDB), the same report `POST /v1/drift`
 * answers, printed as a table or, with `--json`, as that JSON. Integer, decimal and float columns
 * are read as numbers, booleans as booleans, everything else (text, dates) as text.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Command } from 'commander';
import { invalidArgument, isMeridianError, MeridianError } from '../core/errors.js';
import {
  analyzeDrift,
  type Columns,
  type DriftAnalysis,
  type DriftOptions,
} from '../monitoring/drift/report.js';
import { type ColumnType, DRIFT_METHODS, type DriftMethod } from '../monitoring/drift/types.js';
import { table } from './table.js';

/** The flags of `meridian drift`. */
export interface DriftFlags {
  reference: string;
  current: string;
  columnTypes?: string;
  methods?: string;
  thresholds?: string;
  json?: boolean;
}

/** CSV values stay text unless they are numbers: DuckDB would otherwise read yes/no as booleans. */
const CSV = "read_csv_auto(?, auto_type_candidates = ['BIGINT', 'DOUBLE', 'VARCHAR'])";

const READERS: Record<string, string> = {
  '.csv': CSV,
  '.tsv': CSV,
  '.parquet': 'read_parquet(?)',
  '.pq': 'read_parquet(?)',
  '.jsonl': 'read_json_auto(?)',
  '.ndjson': 'read_json_auto(?)',
  '.json': 'read_json_auto(?)',
};

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Reads a file's columns into arrays, numbers as doubles and nulls as null. */
async function readColumns(instance: DuckDBInstance, file: string, flag: string): Promise<Columns> {
  const reader = READERS[extname(file).toLowerCase()];
  if (!reader) {
    throw invalidArgument(flag, `cannot tell the format of "${file}"`, 'name it .csv, .parquet or .jsonl');
  }
  if (!existsSync(file)) throw invalidArgument(flag, `no file ${file}`, 'check the path');
  const con = await instance.connect();
  try {
    const source = reader.replace('?', () => quoteText(file));
    const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJS();
    const select = described.map(({ column_name, column_type }) => {
      const name = quoteIdent(String(column_name));
      const type = String(column_type);
      if (NUMERIC.test(type)) return `CAST(${name} AS DOUBLE) AS ${name}`;
      return type === 'BOOLEAN' ? name : `CAST(${name} AS VARCHAR) AS ${name}`;
    });
    const result = await con.runAndReadAll(`SELECT ${select.join(', ')} FROM ${source}`);
    return result.getColumnsObjectJS() as Columns;
  } catch (err) {
    if (err instanceof MeridianError) throw err;
    throw invalidArgument(
      flag,
      `cannot read ${file}: ${(err as Error).message}`,
      'check that it is valid CSV, Parquet or JSON lines',
    );
  } finally {
    con.closeSync();
  }
}

/** `a=x,b=y` as pairs, each key and value checked. */
function pairs<T>(
  flag: string,
  text: string | undefined,
  parse: (value: string, key: string) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  if (!text) return out;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw invalidArgument(flag, `"${part}" is not column=value`, `write ${flag} col=value,col2=value`);
    out[part.slice(0, eq).trim()] = parse(part.slice(eq + 1).trim(), part.slice(0, eq).trim());
  }
  return out;
}

/** The report options the flags ask for. */
export function driftFlagsOptions(flags: DriftFlags): DriftOptions {
  const columnTypes = pairs<ColumnType>('--column-types', flags.columnTypes, (v, k) => {
    if (v === 'numerical' || v === 'categorical') return v;
    throw invalidArgument('--column-types', `${k}=${v}: unknown type`, 'use numerical or categorical');
  });
  const methods = pairs<DriftMethod>('--methods', flags.methods, (v, k) => {
    if ((DRIFT_METHODS as readonly string[]).includes(v)) return v as DriftMethod;
    throw invalidArgument('--methods', `${k}=${v}: unknown method`, `use one of ${DRIFT_METHODS.join(', ')}`);
  });
  const thresholds = pairs<number>('--thresholds', flags.thresholds, (v, k) => {
    const n = Number(v);
    if (v !== '' && Number.isFinite(n) && n > 0) return n;
    throw invalidArgument('--thresholds', `${k}=${v}: not a positive number`, 'write e.g. age=0.05');
  });
  return { columnTypes, methods, thresholds };
}

const FLAG_OF: Record<string, string> = {
  reference: '--reference',
  current: '--current',
  columnTypes: '--column-types',
  methods: '--methods',
  thresholds: '--thresholds',
};

/** The report's JSON-path field (`methods.age`) as the flag that set it (`--methods age`). */
function asFlagError(err: unknown): unknown {
  if (!isMeridianError(err, 'INVALID_ARGUMENT') || !err.details.field) return err;
  const field = err.details.field;
  const match = /^(\w+)(.*)$/.exec(field);
  const flag = match ? FLAG_OF[match[1]!] : undefined;
  if (!flag) return err;
  const named = `${flag} ${match![2]!.replace(/^\./, '')}`.trim();
  return new MeridianError('INVALID_ARGUMENT', err.message.replace(field, named), {
    ...err.details,
    field: named,
  });
}

/** Reads both files and computes the report. */
export async function runDrift(flags: DriftFlags): Promise<DriftAnalysis> {
  const options = driftFlagsOptions(flags);
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const reference = await readColumns(instance, flags.reference, '--reference');
    const current = await readColumns(instance, flags.current, '--current');
    return analyzeDrift(reference, current, options);
  } catch (err) {
    throw asFlagError(err);
  } finally {
    instance.closeSync();
  }
}

function formatNumber(value: number | null): string {
  if (value === null) return '-';
  if (Math.abs(value) === Number.MAX_VALUE) return value > 0 ? 'inf' : '-inf';
  return Math.abs(value) >= 1e-4 || value === 0
    ? value.toPrecision(4).replace(/\.?0+$/, '')
    : value.toExponential(3);
}

/** The report as a table, one row per column, and a line on dataset drift. */
export function driftTable({ report, counts }: DriftAnalysis): string {
  const rows = [['column', 'type', 'method', 'score', 'p-value', 'threshold', 'status', 'nulls (ref/cur)']];
  for (const [name, c] of Object.entries(report.columns)) {
    const n = counts[name]!;
    rows.push([
      name,
      c.type,
      c.method,
      formatNumber(c.score),
      formatNumber(c.pValue),
      String(c.threshold),
      c.status,
      `${n.referenceNulls}/${n.currentNulls}`,
    ]);
  }
  const columns = Object.keys(report.columns).length;
  const share = `${report.drifted} of ${columns} columns drifted (${Math.round(report.driftShare * 100)}%)`;
  return `${table(rows)}\ndataset drift: ${report.datasetDrift ? 'yes' : 'no'}, ${share}\n`;
}

/** Registers `meridian drift`. */
export function registerDriftCommand(program: Command): void {
  program
    .command('drift')
    .description('compare two datasets column by column (the ad-hoc drift report of POST /v1/drift)')
    .requiredOption('--reference <file>', 'the reference dataset: CSV, Parquet or JSON lines')
    .requiredOption('--current <file>', 'the dataset to compare with it, the same columns or fewer')
    .option('--column-types <pairs>', 'column types, col=numerical|categorical,... (default: inferred)')
    .option('--methods <pairs>', `methods, col=method,... (${DRIFT_METHODS.join(', ')})`)
    .option('--thresholds <pairs>', 'thresholds, col=number,... (p-value for tests, distance for distances)')
    .option('--json', 'print the report as POST /v1/drift answers it')
    .action(async (flags: DriftFlags) => {
      const analysis = await runDrift(flags);
      process.stdout.write(
        flags.json ? `${JSON.stringify(analysis.report, null, 2)}\n` : driftTable(analysis),
      );
    });
}
