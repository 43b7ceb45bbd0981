/** A running platform for a suite: embedded stores in a fresh temp directory, free ports, no logs. */
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Platform } from '../../src/platform.js';
import { tempStoreDir } from './servers.js';

export interface TestPlatform {
  platform: Platform;
  dir: string;
  /** Stops the platform and removes its directory. */
  stop(): Promise<void>;
}

/** Starts target `all` (unless overridden) with `overrides` merged into the config. */
export async function startTestPlatform(
  kind: string,
  overrides: Record<string, unknown> = {},
): Promise<TestPlatform> {
  const dir = tempStoreDir(kind);
  const config = loadConfig({
    cwd: dir,
    env: {},
    overrides: {
      target: 'all',
      dataDir: dir,
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '127.0.0.1', port: 0 },
      ...overrides,
    },
  });
  const platform = await Platform.start(config, { logger: silentLogger });
  return {
    platform,
    dir,
    async stop() {
      await platform.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
