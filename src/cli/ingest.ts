/**
 * `meridian ingest <source> <file>`: uploads a CSV, Parquet or JSONL file to a running server with
 * a progress bar of bytes sent, then prints the load's counts and its first errors.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { MeridianError } from '../core/errors.js';
import { uploadFile } from '../features/ingest/files/upload-client.js';

const DEFAULT_URL = process.env.MERIDIAN_URL ?? 'http://127.0.0.1:8700';
const BAR_WIDTH = 30;

interface IngestFlags {
  format?: string;
  onError?: string;
  url: string;
}

const mib = (bytes: number): string => (bytes / 1024 ** 2).toFixed(1);

/** A progress bar on stderr, redrawn at most once per percent; nothing when stderr is not a terminal. */
function progressBar(): { update(sent: number, total: number): void; done(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let shown = -1;
  return {
    update(sent, total) {
      const percent = total === 0 ? 100 : Math.floor((sent / total) * 100);
      if (percent === shown) return;
      shown = percent;
      const filled = Math.round((percent / 100) * BAR_WIDTH);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}% ${mib(sent)}/${mib(total)} MiB`,
      );
    },
    done() {
      if (shown >= 0) process.stderr.write('\n');
    },
  };
}

function choice(values: readonly string[]): (value: string) => string {
  return (value) => {
    if (!values.includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value;
  };
}

interface RowErrorText {
  row: number;
  column: string;
  value: string | null;
  reason: string;
}

/** The answer as a few lines: counts, then each error as `row N, column: value: reason`. */
export function formatAnswer(body: Record<string, unknown>): string {
  const lines = [
    `rows ${body.rows ?? 0}, accepted ${body.accepted ?? 0}, duplicates ${body.duplicates ?? 0}, rejected ${body.rejected ?? 0}`,
  ];
  for (const e of (body.errors ?? []) as RowErrorText[]) {
    lines.push(
      `  row ${e.row}, ${e.column}: ${e.value === null ? '(empty)' : JSON.stringify(e.value)}: ${e.reason}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Registers `ingest` on the program. */
export function registerIngestCommands(program: Command): void {
  program
    .command('ingest')
    .description('load a CSV, Parquet or JSONL file into a source of a running server')
    .argument('<source>', 'the source to load into')
    .argument('<file>', 'the file (format from its extension unless --format is given)')
    .option('--format <format>', 'csv, parquet or jsonl', choice(['csv', 'parquet', 'jsonl']))
    .option(
      '--on-error <mode>',
      'reject (the whole file) or quarantine (the bad rows)',
      choice(['reject', 'quarantine']),
    )
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (source: string, file: string, flags: IngestFlags) => {
      const fields: Record<string, string> = {};
      if (flags.format) fields.format = flags.format;
      if (flags.onError) fields.onError = flags.onError;
      const bar = progressBar();
      const answer = await uploadFile({
        url: flags.url,
        source,
        file,
        fields,
        onProgress: bar.update,
      }).finally(bar.done);
      if (answer.status === 200) {
        process.stdout.write(formatAnswer(answer.body));
        return;
      }
      if ('rows' in answer.body) process.stdout.write(formatAnswer(answer.body));
      throw new MeridianError(
        'INVALID_ARGUMENT',
        String(answer.body.error ?? `the server answered ${answer.status}`),
        {
          status: answer.status,
        },
      );
    });
}
