/**
 * The demo's file producer: every interval it writes a CSV of generated activity (with one exact
 * duplicate row and one bad row) and uploads it over gRPC (`FeatureStore.UploadFile`) with
 * quarantine on, so good rows load and the bad one is kept aside and reported.
 */
import { toMeridianError } from '../core/errors.js';
import { FeatureStoreGrpcClient, type UploadResult } from '../sdk/grpc-client.js';
import type { ActivityGenerator } from './generator.js';
import type { Tally } from './tally.js';

export interface FileProducerOptions {
  /** The platform's gRPC address (`grpc://host:port`). */
  grpcUrl: string;
  source: string;
  generator: ActivityGenerator;
  /** Generated rows per file, before the duplicate and the bad row. */
  rowsPerFile: number;
  intervalMs: number;
  tally: Tally;
  signal: AbortSignal;
}

const COLUMNS = ['user_id', 'action', 'amount', 'country', 'ts'] as const;

/** Uploads one file per interval until the signal fires; resolves when its last upload ends. */
export async function runFileProducer(options: FileProducerOptions): Promise<void> {
  const client = new FeatureStoreGrpcClient({ url: options.grpcUrl, timeoutMs: 60_000 });
  try {
    for (let n = 1; await waitOrStop(options.intervalMs, options.signal); n++) {
      await upload(client, options, n, csvOf(options.generator, options.rowsPerFile, options.intervalMs));
    }
  } finally {
    client.close();
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

async function upload(
  client: FeatureStoreGrpcClient,
  options: FileProducerOptions,
  n: number,
  file: { text: string; rows: number },
) {
  const { tally } = options;
  let result: UploadResult;
  try {
    result = await client.upload(options.source, [Buffer.from(file.text)], {
      filename: `activity-${n}.csv`,
      format: 'csv',
      onError: 'quarantine',
    });
  } catch (err) {
    const error = toMeridianError(err);
    tally.failed('file', file.rows, `${error.code} ${error.message}`);
    return;
  }
  tally.ok('file', file.rows - result.rejected, result.accepted, result.duplicates);
  if (result.rejected > 0) {
    const first = result.errors[0];
    const message = first
      ? `file row ${first.row}: ${first.column} ${JSON.stringify(first.value)} ${first.reason}`
      : 'file row rejected';
    tally.rejected('file', result.rejected, first?.column ?? 'file', message);
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
