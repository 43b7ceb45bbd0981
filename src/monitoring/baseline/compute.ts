/**
 * Computes a baseline from a reference file in a private in-memory DuckDB (never the offline store,
 * which may belong to another process): load, plan the columns, profile them set-based, and write
 * the seeded sample to a Parquet file in `workDir`.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createCleanView, profileColumns } from './column-stats.js';
import { type ColumnChoice, checkSampleSize, checkSeed, planColumns } from './columns.js';
import type { ColumnProfile, ReferenceFormat } from './profile.js';
import { loadReference, type ReferenceFile, referenceFormat } from './reference.js';
import { writeSample } from './sample.js';

export interface ComputedBaseline {
  rows: number;
  format: ReferenceFormat;
  features: string[];
  prediction: string | null;
  label: string | null;
  columns: Record<string, ColumnProfile>;
  sample: { file: string; seed: number; sampleSize: number; counts: Record<string, number> };
}

/** Profiles the file; INVALID_ARGUMENT names the field (file, format, prediction, ...) that was wrong. */
export async function computeBaseline(
  file: ReferenceFile,
  choice: ColumnChoice,
  workDir: string,
): Promise<ComputedBaseline> {
  const format = referenceFormat(file);
  const sampleSize = checkSampleSize(choice.sampleSize);
  const seed = checkSeed(choice.seed);
  const instance = await DuckDBInstance.create(':memory:', { temp_directory: join(workDir, 'duckdb-spill') });
  const con = await instance.connect();
  try {
    const { columns, rows } = await loadReference(con, file, format);
    const planned = planColumns(columns, choice);
    await createCleanView(con, planned);
    const profiles = await profileColumns(con, planned);
    const sampleFile = join(workDir, 'sample.parquet');
    const counts = await writeSample(con, planned, { sampleSize, seed, file: sampleFile });
    return {
      rows,
      format,
      features: planned.filter((c) => c.role === 'feature').map((c) => c.name),
      prediction: planned.find((c) => c.role === 'prediction')?.name ?? null,
      label: planned.find((c) => c.role === 'label')?.name ?? null,
      columns: profiles,
      sample: { file: sampleFile, seed, sampleSize, counts },
    };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
