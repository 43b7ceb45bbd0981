/**
 * The embedded offline store: one DuckDB file, one instance and one connection, owned by one process
 * (ARCHITECTURE §2). Every call runs through one promise queue, so an append's transaction never shares
 * the connection with another statement.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  StatementType,
} from '@duckdb/node-api';
import { invalidArgument, MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { decodeColumns } from './columns.js';
import type { OfflineRow, OfflineSchema, OfflineStore } from './port.js';
import {
  type Column,
  columnsFromCatalog,
  compareSchema,
  DUCKDB_TYPES,
  prepareRows,
  toParams,
  validateSchema,
  writeRows,
} from './rows.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Files this process has open: DuckDB's file lock is per process, so a second open here would not fail. */
const openFiles = new Set<string>();

/** Throws INVALID_ARGUMENT unless `name` is a plain SQL identifier (letters, digits, underscore). */
export function assertIdentifier(field: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw invalidArgument(
      field,
      `${JSON.stringify(name)} is not a valid identifier`,
      'use 1-63 letters, digits or underscores, starting with a letter or underscore',
    );
  }
}

const quote = (name: string): string => `"${name}"`;

/** Opens (creating if needed) the DuckDB file at `path`, or an in-memory database for `:memory:`. */
export async function openDuckDBOfflineStore(
  path: string,
  url: string,
  logger: Logger,
): Promise<OfflineStore> {
  const file = path === ':memory:' ? null : canonicalFile(path, url);
  if (file && openFiles.has(file)) {
    throw new MeridianError(
      'STORE_UNAVAILABLE',
      `offline store at ${url} is unavailable: ${file} is already open in this process; only one store may own the offline store file (ARCHITECTURE §2), so share the open store instead of opening it twice`,
      { store: 'offline', url, path: file },
    );
  }
  if (file) openFiles.add(file);
  try {
    const instance = await DuckDBInstance.create(file ?? ':memory:');
    const con = await connectOrClose(instance);
    logger.debug({ path: file ?? ':memory:' }, 'offline store opened');
    return new DuckDBOfflineStore(instance, con, file, logger);
  } catch (err) {
    if (file) openFiles.delete(file);
    throw openError(url, file, err);
  }
}

/** The file's path with its directory created and symlinks resolved, so one file has one name. */
function canonicalFile(path: string, url: string): string {
  const file = resolve(path);
  try {
    mkdirSync(dirname(file), { recursive: true });
    return join(realpathSync(dirname(file)), basename(file));
  } catch (err) {
    throw storeUnavailable('offline', url, `creating the directory of ${file}`, err);
  }
}

async function connectOrClose(instance: DuckDBInstance): Promise<DuckDBConnection> {
  try {
    return await instance.connect();
  } catch (err) {
    instance.closeSync();
    throw err;
  }
}

function openError(url: string, file: string | null, err: unknown): MeridianError {
  if (err instanceof MeridianError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/Could not set lock on file/i.test(message)) {
    const holder = /Conflicting lock is held in (.*?\(PID \d+\))/.exec(message)?.[1] ?? 'another process';
    return new MeridianError(
      'STORE_UNAVAILABLE',
      `offline store at ${url} is unavailable: another process holds the file ${file} (${holder}); only one process may own the offline store (ARCHITECTURE §2), so stop that process or send this process's writes through the event stream to the owner`,
      { store: 'offline', url, path: file, holder },
      { cause: err },
    );
  }
  return storeUnavailable('offline', url, `opening the DuckDB file ${file ?? ':memory:'}`, err);
}

/** DuckDB error classes caused by the statement or the data, not by the store. */
const CALLER_ERRORS =
  /(Parser|Binder|Catalog|Conversion|Invalid Input|Out of Range|Not implemented) Error|constraint/i;

/** Maps a DuckDB error to a MeridianError: bad SQL or data is the caller's, I/O is the store's. */
function duckdbError(field: string, what: string, err: unknown, url: string, outcome = ''): MeridianError {
  if (err instanceof MeridianError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/^IO Error/i.test(message)) return storeUnavailable('offline', url, `${what}${outcome}`, err);
  const options = { cause: err };
  if (CALLER_ERRORS.test(message)) {
    return new MeridianError(
      'INVALID_ARGUMENT',
      `${field}: DuckDB rejected ${what}: ${message}${outcome}`,
      { field },
      options,
    );
  }
  return new MeridianError(
    'INTERNAL',
    `offline store failed during ${what}: ${message}${outcome}`,
    {},
    options,
  );
}

class DuckDBOfflineStore implements OfflineStore {
  readonly description: string;
  /** Column lists by lower-cased table name; cleared by any statement that may change the catalog. */
  private readonly tables = new Map<string, Column[]>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | null = null;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly con: DuckDBConnection,
    private readonly file: string | null,
    private readonly logger: Logger,
  ) {
    this.description = `duckdb:${file ?? ':memory:'}`;
  }

  async ensureTable(table: string, schema: OfflineSchema): Promise<void> {
    assertIdentifier('table', table);
    for (const column of Object.keys(validateSchema(schema))) assertIdentifier(`schema.${column}`, column);
    await this.enqueue(async () => {
      this.tables.delete(table.toLowerCase());
      const existing = await this.columnsOf(table);
      if (existing) return compareSchema(table, existing, schema);
      const columns = Object.entries(schema).map(([name, type]) => `${quote(name)} ${DUCKDB_TYPES[type]}`);
      await this.run(
        `CREATE TABLE IF NOT EXISTS ${quote(table)} (${columns.join(', ')})`,
        `creating table ${table}`,
      );
    });
  }

  async append(table: string, rows: readonly OfflineRow[]): Promise<{ rows: number }> {
    assertIdentifier('table', table);
    if (!Array.isArray(rows)) throw invalidArgument('rows', 'must be an array of row objects');
    return this.enqueue(async () => {
      const columns = await this.columnsOf(table);
      if (!columns) {
        throw new MeridianError(
          'NOT_FOUND',
          `table ${table} does not exist in the offline store; call ensureTable first`,
          { field: 'table', table },
        );
      }
      if (rows.length === 0) return { rows: 0 };
      const cells = prepareRows(table, columns, rows);
      await this.appendInTransaction(table, columns, cells, rows.length);
      return { rows: rows.length };
    });
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.runStatement(sql, params, async (prepared) => {
      const reader = await prepared.runAndReadAll();
      return decodeRows(reader) as T[];
    });
  }

  async queryColumns(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<Record<string, Float64Array | unknown[]>> {
    return this.runStatement(sql, params, async (prepared) => decodeColumns(await prepared.run()));
  }

  /** Validates, prepares and binds a statement, runs `read` on it inside the queue, then frees it. */
  private runStatement<T>(
    sql: string,
    params: readonly unknown[],
    read: (prepared: DuckDBPreparedStatement) => Promise<T>,
  ): Promise<T> {
    if (typeof sql !== 'string' || sql.trim() === '') {
      throw invalidArgument('sql', 'must be a non-empty SQL string');
    }
    if (!Array.isArray(params)) throw invalidArgument('params', 'must be an array of values for $1, $2, ...');
    const { values, types } = toParams(params);
    return this.enqueue(async () => {
      const prepared = await this.con.prepare(sql).catch((err: unknown) => {
        throw duckdbError('sql', 'the statement', err, this.description);
      });
      try {
        if (prepared.statementType === StatementType.TRANSACTION) {
          throw invalidArgument(
            'sql',
            'transaction statements are not allowed',
            'every append is already one transaction',
          );
        }
        if (prepared.parameterCount !== values.length) {
          throw invalidArgument(
            'params',
            `the SQL has ${prepared.parameterCount} parameters but ${values.length} were given`,
          );
        }
        if (values.length > 0) prepared.bind(values, types);
        const result = await read(prepared);
        if (prepared.statementType !== StatementType.SELECT) this.tables.clear();
        return result;
      } catch (err) {
        throw duckdbError('sql', 'the statement', err, this.description);
      } finally {
        prepared.destroySync();
      }
    });
  }

  async ping(): Promise<void> {
    await this.enqueue(async () => {
      try {
        await this.con.run('SELECT 1');
      } catch (err) {
        throw storeUnavailable('offline', this.description, 'SELECT 1', err);
      }
    });
  }

  close(): Promise<void> {
    this.closed ??= this.tail.then(() => {
      this.con.closeSync();
      this.instance.closeSync();
      if (this.file) openFiles.delete(this.file);
      this.logger.debug({ path: this.file ?? ':memory:' }, 'offline store closed');
    });
    return this.closed;
  }

  /**
   * The Appender writes through its connection's open transaction. Measured on DuckDB 1.5: without
   * BEGIN, a CHECK failure at row 240,000 left the 204,800 rows the Appender had already flushed in the
   * table; inside BEGIN ... ROLLBACK it left none. So a batch is appended inside BEGIN/COMMIT, which
   * needs no second copy of the rows as a staging table would. COMMIT returns only after DuckDB has
   * written and fsynced the WAL (and, for large batches, the data blocks first; checked with strace),
   * so resolving after COMMIT means the rows are durable.
   */
  private async appendInTransaction(table: string, columns: Column[], cells: unknown[], rowCount: number) {
    await this.run('BEGIN TRANSACTION', `starting the append to ${table}`);
    let appender: DuckDBAppender | undefined;
    try {
      appender = await this.con.createAppender(table);
      writeRows(appender, columns, cells, rowCount);
      appender.flushSync();
      appender.closeSync();
      appender = undefined;
      await this.con.run('COMMIT');
    } catch (err) {
      closeQuietly(appender);
      await this.con.run('ROLLBACK').catch(() => undefined);
      const outcome = '; nothing was written (the batch was rolled back)';
      throw duckdbError('rows', `the batch for table ${table}`, err, this.description, outcome);
    }
  }

  private async columnsOf(table: string): Promise<Column[] | null> {
    const key = table.toLowerCase();
    const cached = this.tables.get(key);
    if (cached) return cached;
    const reader = await this.con
      .runAndReadAll(
        `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
         WHERE table_catalog = current_database() AND table_schema = 'main' AND lower(table_name) = $1
         ORDER BY ordinal_position`,
        [key],
      )
      .catch((err: unknown) => {
        throw duckdbError('table', `reading the columns of ${table}`, err, this.description);
      });
    const columns = columnsFromCatalog(reader.getRowObjectsJS());
    if (columns.length === 0) return null;
    this.tables.set(key, columns);
    return columns;
  }

  private async run(sql: string, what: string): Promise<void> {
    try {
      await this.con.run(sql);
    } catch (err) {
      throw duckdbError('sql', what, err, this.description);
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(storeClosed('offline', this.description));
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function closeQuietly(appender: DuckDBAppender | undefined): void {
  try {
    appender?.closeSync();
  } catch {
    // The append already failed; closing only releases the appender and repeats that error.
  }
}

/** Row objects with BIGINT as bigint, TIMESTAMP as Date and JSON columns parsed back into values. */
function decodeRows(reader: DuckDBResultReader): Record<string, unknown>[] {
  const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
  const names = reader.columnNames();
  const jsonColumns = reader
    .columnTypes()
    .flatMap((type, i) => (type.alias === 'JSON' && names[i] !== undefined ? [names[i]] : []));
  if (jsonColumns.length === 0) return rows;
  for (const row of rows) {
    for (const name of jsonColumns) {
      const text = row[name];
      if (typeof text === 'string') row[name] = JSON.parse(text);
    }
  }
  return rows;
}
