/**
 * The demo's file producer: every interval it writes a CSV of generated activity (with one exact
 * duplicate row and one bad row) and uploads it to `POST /v1/sources/:source/files` with
 * `onError=quarantine`, so good rows load and the bad one is kept aside and reported.
 */
import type { ActivityGenerator } from './generator.js';
import type { Tally } from './tally.js';

export interface FileProducerOptions {
  url: string;
  source: string;
  generator: ActivityGenerator;
  /** Generated rows per file, before the duplicate and the bad row. */
  rowsPerFile: number;
  intervalMs: number;
  tally: Tally;
  signal: AbortSignal;
}

interface RowError {
  row: number;
  column: string;
  value: unknown;
  reason: string;
}

const COLUMNS = ['user_id', 'action', 'amount', 'country', 'ts'] as const;

/** Uploads one file per interval until the signal fires; resolves when its last upload ends. */
export async function runFileProducer(options: FileProducerOptions): Promise<void> {
  for (let n = 1; await waitOrStop(options.intervalMs, options.signal); n++) {
    await upload(options, n, csvOf(options.generator, options.rowsPerFile, options.intervalMs));
  }
}

/** A CSV as a batch job would export the last interval: a header, the rows, a retried row, a bad one. */
function csvOf(generator: ActivityGenerator, rows: number, spanMs: number): { text: string; rows: number } {
  const now = Date.now();
  const events = Array.from(
    { length: rows },
    (): Record<string, unknown> => ({ ...generator.event(now - generator.next() * spanMs) }),
  );
  events.push({ ...events[0]! });
  events.push({ ...generator.event(Date.now()), amount: 'n/a' });
  const lines = events.map((e) => COLUMNS.map((c) => String(e[c])).join(','));
  return { text: `${COLUMNS.join(',')}\n${lines.join('\n')}\n`, rows: events.length };
}

async function upload(options: FileProducerOptions, n: number, file: { text: string; rows: number }) {
  const { tally } = options;
  const form = new FormData();
  form.append('onError', 'quarantine');
  form.append('file', new Blob([file.text], { type: 'text/csv' }), `activity-${n}.csv`);
  let response: Response;
  try {
    response = await fetch(`${options.url}/v1/sources/${options.source}/files`, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    tally.failed('file', file.rows, (err as Error).name ?? 'network error');
    return;
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    tally.failed('file', file.rows, `${response.status} ${String(body.error ?? body.code ?? '')}`.trim());
    return;
  }
  const rejected = Number(body.rejected);
  tally.ok('file', file.rows - rejected, Number(body.accepted), Number(body.duplicates));
  if (rejected > 0) {
    const first = (body.errors as RowError[] | undefined)?.[0];
    const message = first
      ? `file row ${first.row}: ${first.column} ${JSON.stringify(first.value)} ${first.reason}`
      : 'file row rejected';
    tally.rejected('file', rejected, first?.column ?? 'file', message);
  }
}

/** Waits the interval; false when the signal fired first (or before). */
function waitOrStop(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(true), ms);
    const onAbort = () => finish(false);
    function finish(waited: boolean) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(waited);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
