import type { Config } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { Platform } from '../platform.js';

/** Starts a target and keeps it running until SIGTERM or SIGINT, then drains and exits 0. */
export async function up(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const platform = await Platform.start(config, { logger });
  process.stdout.write(
    `meridian ready: target ${config.target}, http ${platform.httpUrl}, grpc ${platform.grpcUrl}, data ${config.dataDir}\n`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutdown requested');
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      const deadline = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs + 5000);
      deadline.unref();
      platform.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
