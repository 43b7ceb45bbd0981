/**
 * What ingestion tells the quality recorders: values or events it rejected, and views it wrote.
 * Ingestion calls these synchronously on its hot path, so an implementation only buffers; the
 * state store is written in the background (see violation-log.ts and freshness.ts).
 */
import { MeridianError } from '../../core/errors.js';

/** Rejections of one kind, as counted: `field` as the error names it, `code` the error code. */
export interface Violation {
  field: string;
  code: string;
  count: number;
  /** One of the messages, so a reader sees what was wrong without the logs. */
  sample: string;
}

export interface IngestQuality {
  /** Records values or events of `source` rejected at ingestion (REST, gRPC, stream or file). */
  rejected(source: string, violations: readonly Violation[]): void;
  /** Records that these views were just written. */
  written(views: readonly string[]): void;
}

/** The violation an ingestion error stands for; undefined for failures that are not the input's fault. */
export function violationOf(err: unknown): Violation | undefined {
  if (!(err instanceof MeridianError)) return undefined;
  if (err.code !== 'INVALID_ARGUMENT' && err.code !== 'NOT_FOUND') return undefined;
  return { field: err.details.field ?? '', code: err.code, count: 1, sample: err.message };
}
