import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { BASELINE_MIGRATIONS } from '../../src/monitoring/baseline/migrations.js';
import { WindowDriftJob } from '../../src/monitoring/drift/window-job.js';
import { LatencyStats } from '../../src/serving/latency.js';
import { MODEL_REGISTRY_MIGRATIONS } from '../../src/serving/migrations.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { tempStoreDir } from '../helpers/servers.js';

describe('scheduled monitoring yields to serving', { timeout: 30_000 }, () => {
  let dir: string;
  let offline: OfflineStore;
  let state: StateStore;
  let artifact: ArtifactStore;
  beforeAll(async () => {
    dir = tempStoreDir('window-backoff');
    const ctx = { dataDir: dir, logger: silentLogger };
    offline = await createOfflineStore('duckdb::memory:', ctx);
    state = await createStateStore(`pglite:${join(dir, 'state')}`, ctx);
    artifact = await createArtifactStore(`file:${join(dir, 'artifacts')}`, ctx);
    await state.migrate(MODEL_REGISTRY_MIGRATIONS);
    await state.migrate(BASELINE_MIGRATIONS);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([offline.close(), state.close(), artifact.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function jobLogging(lines: string[]): WindowDriftJob {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return new WindowDriftJob({ offline, state, artifact, logger: pino({ level: 'info' }, sink) });
  }

  it('skips a scheduled run while serving stays over its p95 objective, and runs once it is not', async () => {
    const busyLines: string[] = [];
    const busy = jobLogging(busyLines);
    busy.start(300, {}, () => 'serving p95 250 ms > 100 ms');
    await new Promise((resolve) => setTimeout(resolve, 1800));
    await busy.stop();
    const text = busyLines.join('');
    expect(text).toContain('scheduled window drift waits');
    expect(text).toContain('scheduled window drift skipped');

    const idleLines: string[] = [];
    const idle = jobLogging(idleLines);
    idle.start(300, {}, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await idle.stop();
    expect(idleLines.join('')).not.toContain('scheduled window drift');
  });

  it("answers serving's recent p95 over every model, or null without requests", () => {
    const clock = new ManualClock(1_000_000);
    const stats = new LatencyStats(createMetricsRegistry(false), { clock });
    expect(stats.recentP95Ms()).toBeNull();
    const observe = (model: string, ms: number) =>
      stats.observe({
        requestId: 'r',
        model,
        version: 1,
        protocol: 'rest',
        time: 0,
        requestSeconds: ms / 1000,
        ok: true,
      });
    for (let i = 1; i <= 100; i++) observe(i % 2 ? 'a' : 'b', i);
    expect(stats.recentP95Ms()).toBeCloseTo(95, 0);
  });
});
