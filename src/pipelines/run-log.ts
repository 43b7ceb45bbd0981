/**
 * The run log: lines steps write (stdout, stderr, their logger) kept in the state store, numbered
 * per run. A writer batches an attempt's lines so a chatty step costs one statement per batch.
 */
import type { Logger } from '../core/logger.js';
import type { SqlExecutor, StateStore } from '../stores/state/port.js';
import type { LogLine, LogSink } from './types.js';

type NewLine = Omit<LogLine, 'seq'>;

/** A line longer than this is cut: one runaway line must not bloat the run log. */
const MAX_LINE = 16_384;

/** Appends lines to a run's log, numbering them after its last line (the run row's counter serializes writers). */
export async function appendLogs(state: StateStore, runId: string, lines: readonly NewLine[]): Promise<void> {
  if (lines.length === 0) return;
  await state.transaction(async (tx) => {
    const { rows } = await tx.query<{ last: unknown }>(
      'UPDATE pipeline_runs SET log_seq = log_seq + $2 WHERE run_id = $1 RETURNING log_seq AS last',
      [runId, lines.length],
    );
    if (!rows[0]) return;
    const first = Number(rows[0].last) - lines.length + 1;
    const records = lines.map((l, i) => ({ ...l, seq: first + i }));
    await tx.query(
      `INSERT INTO pipeline_logs (run_id, seq, step, attempt, time, stream, line)
       SELECT $1, l.seq, l.step, l.attempt, l.time, l.stream, l.line
       FROM jsonb_to_recordset($2::jsonb) AS l(seq bigint, step text, attempt integer, time timestamptz,
         stream text, line text)`,
      [runId, JSON.stringify(records)],
    );
  });
}

export interface LogQuery {
  step?: string;
  afterSeq?: number;
  limit?: number;
}

/** A run's log lines after `afterSeq`, oldest first. */
export async function readLogs(db: SqlExecutor, runId: string, query: LogQuery = {}): Promise<LogLine[]> {
  const { rows } = await db.query<LogLine & { seq: unknown; time: Date | string }>(
    `SELECT seq, time, step, attempt, stream, line FROM pipeline_logs
     WHERE run_id = $1 AND seq > $2 AND ($3::text IS NULL OR step = $3)
     ORDER BY seq LIMIT $4`,
    [runId, query.afterSeq ?? 0, query.step ?? null, query.limit ?? 1000],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq), time: new Date(r.time).toISOString() }));
}

/** A LogSink for one attempt that writes its lines in batches; close() writes what is left. */
export class RunLogWriter implements LogSink {
  readonly #state: StateStore;
  readonly #runId: string;
  readonly #step: string;
  readonly #attempt: number;
  readonly #logger: Logger;
  #buffer: NewLine[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(state: StateStore, runId: string, step: string, attempt: number, logger: Logger) {
    this.#state = state;
    this.#runId = runId;
    this.#step = step;
    this.#attempt = attempt;
    this.#logger = logger;
  }

  write(stream: LogLine['stream'], line: string): void {
    const text = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}... (cut)` : line;
    const time = new Date().toISOString();
    this.#buffer.push({ step: this.#step, attempt: this.#attempt, time, stream, line: text });
    if (this.#buffer.length >= 200) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), 250);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#buffer;
    this.#buffer = [];
    // Writes stay in order: each batch waits for the one before.
    this.#writing = this.#writing.then(() =>
      appendLogs(this.#state, this.#runId, lines).catch((err: unknown) => {
        this.#logger.warn(
          { err, runId: this.#runId, step: this.#step, lost: lines.length },
          'run log lines not written',
        );
      }),
    );
  }

  /** Writes the lines still buffered. */
  async close(): Promise<void> {
    if (this.#buffer.length > 0) this.#flush();
    clearTimeout(this.#timer);
    await this.#writing;
  }
}
