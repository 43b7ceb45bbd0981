/**
 * `meridian demo`: starts the platform on embedded stores, applies the churn example, streams
 * generated user activity at it, trains and deploys an XGBoost churn model on its features, loads it
 * with hydrated predictions, shifts the traffic and has the monitor find the drift, and prints what happened.
 * SIGINT ends the traffic early; the summary is still printed and the platform stopped cleanly.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { runDemo } from '../demo/run.js';
import { formatSummary } from '../demo/summary.js';

interface DemoFlags {
  duration: number;
  users: number;
  rate: number;
  producers: number;
  seed: number;
  trainingRows: number;
  modelRows: number;
  predictRequests: number;
  dataDir?: string;
  httpPort: number;
  grpcPort: number;
  json?: boolean;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h` or a bare number of seconds, in milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 30s, 2m or 500ms');
  const ms = Number(match[1]) * UNITS_MS[match[2] ?? 's']!;
  if (ms <= 0) throw new InvalidArgumentError('expected a duration above zero');
  return ms;
}

const positiveInt = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected ${what}: a whole number >= 1`);
  return n;
};

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0-65535');
  return n;
};

/** Registers `meridian demo` on the program. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the platform with generated traffic on the churn example, train and serve a churn model, then print a summary',
    )
    .option('--duration <duration>', 'how long to send traffic (e.g. 30s, 2m)', parseDuration, 30_000)
    .option('--users <n>', 'distinct users', positiveInt('a user count'), 1000)
    .option('--rate <events/s>', 'events per second over all producers', positiveInt('a rate'), 2000)
    .option('--producers <n>', 'concurrent push producers', positiveInt('a producer count'), 2)
    .option('--seed <n>', 'seed of the generated data', positiveInt('a seed'), 42)
    .option('--training-rows <n>', 'entity rows of the sample training set', positiveInt('a row count'), 1000)
    .option(
      '--model-rows <n>',
      "entity rows of the churn model's training set",
      positiveInt('a row count'),
      5000,
    )
    .option(
      '--predict-requests <n>',
      'hydrated prediction requests sent to the deployed model',
      positiveInt('a request count'),
      2000,
    )
    .option('--data-dir <dir>', 'keep the stores here (default: a temp dir removed afterwards)')
    .option('--http-port <port>', 'HTTP port (default: any free port)', port, 0)
    .option('--grpc-port <port>', 'gRPC port (default: any free port)', port, 0)
    .option('--json', 'print the summary as JSON')
    .action(async (flags: DemoFlags) => {
      const interrupted = new AbortController();
      const onSigint = () => {
        process.stderr.write('\nmeridian demo: stopping early (Ctrl-C again to exit at once)\n');
        process.once('SIGINT', () => process.exit(130));
        interrupted.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        const summary = await runDemo({
          durationMs: flags.duration,
          users: flags.users,
          rate: flags.rate,
          producers: flags.producers,
          seed: flags.seed,
          trainingRows: flags.trainingRows,
          modelRows: flags.modelRows,
          predictRequests: flags.predictRequests,
          httpPort: flags.httpPort,
          grpcPort: flags.grpcPort,
          signal: interrupted.signal,
          ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
