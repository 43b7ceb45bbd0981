import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Config, loadConfig, TARGETS } from '../core/config.js';
import { MeridianError, redactUrl } from '../core/errors.js';
import { registerApplyCommands } from './apply.js';
import { registerDemoCommand } from './demo.js';
import { registerDriftCommand } from './drift.js';
import { registerHistoricalCommand } from './historical.js';
import { registerIngestCommands } from './ingest.js';
import { registerModelCommands } from './models.js';
import { registerPipelineCommands } from './pipelines.js';
import { up } from './up.js';
import { registerWorkerCommand } from './worker.js';

interface GlobalFlags {
  config?: string;
}

interface UpFlags {
  target?: string;
  httpPort?: number;
  grpcPort?: number;
  dataDir?: string;
}

const parsePort = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
};

/** Flags win over env and meridian.yaml; absent flags leave those alone. */
function configFrom(globals: GlobalFlags, flags: UpFlags): Config {
  const overrides: Record<string, unknown> = {};
  if (flags.target !== undefined) overrides.target = flags.target;
  if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
  if (flags.httpPort !== undefined) overrides.http = { port: flags.httpPort };
  if (flags.grpcPort !== undefined) overrides.grpc = { port: flags.grpcPort };
  return loadConfig({ ...(globals.config ? { file: globals.config } : {}), overrides });
}

/** The `meridian` command line. */
export function buildProgram(): Command {
  const program = new Command('meridian')
    .description('Meridian: feature store, model server, drift monitor and pipeline orchestrator')
    .option('-c, --config <file>', 'config file (default: ./meridian.yaml when present)')
    .showHelpAfterError();

  program
    .command('up')
    .description('run the platform (all services in one process by default) until SIGTERM/SIGINT')
    .addOption(new Option('-t, --target <target>', 'which services to run (default: all)').choices(TARGETS))
    .option('--http-port <port>', 'HTTP port (default: 8700)', parsePort)
    .option('--grpc-port <port>', 'gRPC port (default: 8701)', parsePort)
    .option('--data-dir <dir>', 'where embedded stores keep their files (default: ./.meridian)')
    .action(async (flags: UpFlags) => up(configFrom(program.opts<GlobalFlags>(), flags)));

  program
    .command('config')
    .description('print the resolved configuration (file, MERIDIAN_* env and defaults), secrets redacted')
    .action(() => {
      const config = configFrom(program.opts<GlobalFlags>(), {});
      process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    });
  registerApplyCommands(program);
  registerDemoCommand(program);
  registerIngestCommands(program);
  registerHistoricalCommand(program);
  registerModelCommands(program);
  registerDriftCommand(program);
  registerPipelineCommands(program);
  registerWorkerCommand(program);
  return program;
}

function redactConfig(config: Config): Config {
  const redacted = structuredClone(config);
  for (const key of [
    'onlineStore',
    'stateStore',
    'jobQueue',
    'eventStream',
    'artifactStore',
    'offlineStore',
  ] as const) {
    redacted[key] = redactUrl(redacted[key]);
  }
  if (redacted.azure.connectionString)
    redacted.azure.connectionString = redactUrl(redacted.azure.connectionString);
  return redacted;
}

/** Runs the CLI; a user's mistake ends with one clear line on stderr and exit code 1, never a bare stack trace. */
export async function run(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof MeridianError) {
      process.stderr.write(`meridian: ${err.message}\n`);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`meridian: unexpected error: ${message}\n`);
      if (process.env.MERIDIAN_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = 1;
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();

if (invokedDirectly) await run();
