import type { Config } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { Platform } from '../platform.js';

/**
 * Starts a target and keeps it running until SIGTERM or SIGINT, then drains and exits 0. A signal
 * that arrives while the stores are still opening stops the platform as soon as they are open, so
 * nothing is left half-open; a second signal exits at once.
 */
export async function up(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutdown requested');
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  const platform = await Platform.start(config, { logger });
  process.stdout.write(
    `meridian ready: target ${config.target}, http ${platform.httpUrl}, grpc ${platform.grpcUrl}, data ${config.dataDir}\n`,
  );
  await stopRequested;
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs + 5000);
  deadline.unref();
  await platform.stop();
}
