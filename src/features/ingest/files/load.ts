/**
 * Loads one uploaded file into a source: stage it, find bad rows, then either reject the whole
 * file (nothing written) or, with `quarantine`, write the good rows and keep the bad ones in
 * `rejects_<source>`. Loads of one source run one at a time, so two uploads of the same file
 * cannot both miss each other's event ids.
 */
import { type Clock, systemClock } from '../../../core/clock.js';
import { newId } from '../../../core/ids.js';
import { type Logger, silentLogger } from '../../../core/logger.js';
import type { OfflineSchema, OfflineStore } from '../../../stores/offline/port.js';
import type { OnlineStore } from '../../../stores/online/port.js';
import type { Catalog } from '../../catalog.js';
import type { SourceDef } from '../../definitions.js';
import { type IngestQuality, violationOf } from '../../quality/hooks.js';
import { nextCreatedMicros } from '../created-clock.js';
import { unknownSource } from '../dual-write.js';
import { DEFAULT_MAX_FUTURE_MS } from '../events.js';
import { withSourceLock } from '../source-lock.js';
import type { TransformPool } from '../transform-pool.js';
import { ident, literal } from './sql.js';
import { stageFile, type UploadedFile } from './stage.js';
import {
  badValueViolations,
  convertGoodRows,
  findBadRows,
  type RowError,
  summarizeBadRows,
} from './validate.js';
import { type FileTables, writeFileRows } from './write.js';

export type OnError = 'reject' | 'quarantine';

export interface FileLoadResult {
  rows: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The first bad values, in file order. */
  errors: RowError[];
  /** True when bad rows rejected the whole file and nothing was written. */
  rejectedWhole: boolean;
}

export interface FileLoaderOptions {
  offline: OfflineStore;
  online: OnlineStore;
  catalog: Catalog;
  logger?: Logger;
  clock?: Clock;
  /** How far past now an event timestamp may be (default one day, as for pushes). */
  maxFutureMs?: number;
  /** Where TypeScript transforms run; the process-wide pool when absent. */
  transforms?: TransformPool;
  /** Told about the file's bad values (violations) and the views written (freshness). */
  quality?: IngestQuality;
}

export interface FileLoader {
  /** Throws NOT_FOUND unless the source exists, so an upload to a wrong source fails before it is sent. */
  checkSource(source: string): void;
  /** Loads `file` into `source`; rejects with NOT_FOUND for an unknown source. */
  load(source: string, file: UploadedFile, onError: OnError): Promise<FileLoadResult>;
}

const MAX_ERRORS = 20;

/** The offline table of a source's quarantined rows. */
export const rejectsTable = (source: string): string => `rejects_${source}`;

const REJECTS_SCHEMA: OfflineSchema = {
  file_name: 'string',
  row: 'int64',
  column: 'string',
  value: 'string',
  reason: 'string',
  created_timestamp: 'timestamp',
};

/** Creates the file loader over the offline and online stores and the catalog. */
export function createFileLoader(options: FileLoaderOptions): FileLoader {
  const queues = new Map<string, Promise<unknown>>();
  return {
    checkSource(sourceName) {
      if (!options.catalog.source(sourceName)) throw unknownSource(sourceName);
    },
    load(sourceName, file, onError) {
      const source = options.catalog.source(sourceName);
      if (!source) return Promise.reject(unknownSource(sourceName));
      const run = (queues.get(sourceName) ?? Promise.resolve()).then(() =>
        loadInto(options, source, file, onError).catch((err: unknown) => {
          const violation = violationOf(err);
          if (violation) options.quality?.rejected(sourceName, [violation]);
          throw err;
        }),
      );
      queues.set(
        sourceName,
        run.catch(() => undefined),
      );
      return run;
    },
  };
}

async function loadInto(
  options: FileLoaderOptions,
  source: SourceDef,
  file: UploadedFile,
  onError: OnError,
): Promise<FileLoadResult> {
  const { offline } = options;
  const started = performance.now();
  const runId = newId();
  const suffix = runId.replaceAll('-', '');
  const tables = { raw: `file_raw_${suffix}`, bad: `file_bad_${suffix}` };
  const write: FileTables = {
    good: `file_good_${suffix}`,
    fresh: `file_new_${suffix}`,
    staged: `stg_${suffix}`,
  };
  try {
    const columns = await stageFile(offline, source, file, tables.raw);
    const joinKeys = new Set(
      options.catalog.viewsOfSource(source.name).flatMap((view) => view.keys.map((key) => key.name)),
    );
    await findBadRows(offline, source, columns, tables, {
      joinKeys,
      now: (options.clock ?? systemClock).now(),
      maxFutureMs: options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
    });
    const { rows, rejected, errors } = await summarizeBadRows(offline, tables, MAX_ERRORS);
    if (rejected > 0 && options.quality) {
      options.quality.rejected(source.name, await badValueViolations(offline, tables.bad));
    }
    if (rejected > 0 && onError === 'reject') {
      return { rows, accepted: 0, duplicates: 0, rejected, errors, rejectedWhole: true };
    }
    await convertGoodRows(offline, source, columns, { ...tables, good: write.good });
    const accepted = await withSourceLock(offline, source.name, () =>
      writeFileRows(options, source, write, { id: runId, fileRows: rows }),
    );
    if (rejected > 0) await quarantine(offline, source, file, tables.bad);
    const duplicates = rows - rejected - accepted;
    (options.logger ?? silentLogger).info(
      {
        source: source.name,
        file: file.name,
        rows,
        rejected,
        accepted,
        duplicates,
        ms: performance.now() - started,
      },
      'loaded file',
    );
    return { rows, accepted, duplicates, rejected, errors, rejectedWhole: false };
  } finally {
    const scratch = [...Object.values(tables), write.good, write.fresh, write.staged];
    for (const table of scratch)
      await offline.query(`DROP TABLE IF EXISTS ${ident(table)}`).catch(() => undefined);
  }
}

/** Appends every bad value of the file to the source's rejects table. */
async function quarantine(
  offline: OfflineStore,
  source: SourceDef,
  file: UploadedFile,
  bad: string,
): Promise<void> {
  const table = rejectsTable(source.name);
  await offline.ensureTable(table, REJECTS_SCHEMA);
  await offline.query(
    `INSERT INTO ${ident(table)} (file_name, "row", "column", "value", reason, created_timestamp)
     SELECT ${literal(file.name)}, "row", "column", "value", reason, make_timestamp(${nextCreatedMicros()}::BIGINT)
     FROM ${ident(bad)} ORDER BY "row", position`,
  );
}
