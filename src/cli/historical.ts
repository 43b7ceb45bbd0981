/**
 * `meridian features historical`: builds a point-in-time training set on a running server (which owns
 * the DuckDB file) through the SDK, from entity rows in a CSV or Parquet file, and streams the answer
 * to `--out` (Parquet or CSV by extension, or CSV on stdout for `-`), then prints the row count.
 */
import { extname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { invalidArgument } from '../core/errors.js';
import { MeridianClient } from '../sdk/client.js';

const DEFAULT_URL = process.env.MERIDIAN_URL ?? 'http://127.0.0.1:8700';
/** A training set of millions of rows takes a while: the CLI waits up to an hour for it. */
const TIMEOUT_MS = 60 * 60 * 1000;

interface HistoricalFlags {
  entities: string;
  features?: string[];
  featureService?: string;
  asOf?: string;
  out: string;
  format?: 'parquet' | 'csv';
  url: string;
}

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((ref) => ref.trim())
    .filter((ref) => ref !== ''),
];

function parseFormat(value: string): 'parquet' | 'csv' {
  if (value !== 'parquet' && value !== 'csv') throw new InvalidArgumentError('expected parquet or csv');
  return value;
}

/** The answer's format: `--format`, else the extension of `--out`; stdout gets CSV unless told otherwise. */
export function outputFormat(out: string, format?: 'parquet' | 'csv'): 'parquet' | 'csv' {
  if (format) return format;
  if (out === '-') return 'csv';
  const ext = extname(out).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.csv') return 'csv';
  throw invalidArgument(
    '--out',
    `cannot tell the format of "${out}"`,
    'name it .parquet or .csv, or pass --format',
  );
}

function selection(flags: HistoricalFlags): string[] | { featureService: string } {
  if (flags.features && flags.featureService) {
    throw invalidArgument('--feature-service', 'was given together with --features', 'pass only one of them');
  }
  if (flags.featureService) return { featureService: flags.featureService };
  if (flags.features && flags.features.length > 0) return flags.features;
  throw invalidArgument(
    '--features',
    'is missing',
    'pass --features view:feature,... or --feature-service name',
  );
}

async function historical(flags: HistoricalFlags): Promise<void> {
  const features = selection(flags);
  const format = outputFormat(flags.out, flags.format);
  const client = new MeridianClient({ url: flags.url, timeoutMs: TIMEOUT_MS });
  const { rows } = await client.getHistoricalFeatures({ file: flags.entities }, features, {
    format,
    out: flags.out === '-' ? process.stdout : flags.out,
    ...(flags.asOf !== undefined ? { asOfSystemTime: flags.asOf } : {}),
  });
  const where = flags.out === '-' ? 'stdout' : flags.out;
  // On stdout the rows are the output, so the count goes to stderr.
  (flags.out === '-' ? process.stderr : process.stdout).write(
    `${rows} rows written to ${where} (${format})\n`,
  );
}

/** Registers `historical` under the `features` command (created if no other command made it yet). */
export function registerHistoricalCommand(program: Command): void {
  const features =
    program.commands.find((c) => c.name() === 'features') ??
    program.command('features').description('feature store objects and data');
  features
    .command('historical')
    .description('build a point-in-time training set from a file of entity rows on a running server')
    .requiredOption(
      '--entities <file>',
      'entity rows: a CSV or Parquet file with the join keys and event_timestamp',
    )
    .option('--features <refs>', 'view:feature or view:* references, comma-separated (repeatable)', collect)
    .option('--feature-service <name>', 'a feature service instead of --features')
    .option('--as-of <time>', 'only rows created at or before this time (ISO-8601 with a zone or epoch ms)')
    .requiredOption(
      '--out <file>',
      'where to write the rows: a .parquet or .csv file, or - for CSV on stdout',
    )
    .option('--format <format>', 'parquet or csv (default: from the --out extension)', parseFormat)
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action((flags: HistoricalFlags) => historical(flags));
}
