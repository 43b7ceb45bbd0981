/**
 * What the step-executor suites share: real stores (a PostgreSQL state store, which starts faster
 * than PGlite's initdb in WASM, and file artifacts) in a temp directory
 * and a StepContext for one attempt whose heartbeats and log lines are recorded.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { LogLine, LogSink, StepContext, StepOutput } from '../../src/pipelines/types.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { type RunningServer, startPostgres } from '../helpers/servers.js';

export interface Harness {
  readonly root: string;
  /** Where the executor under test makes its per-attempt directories. */
  readonly tempDir: string;
  readonly artifact: ArtifactStore;
  readonly state: StateStore;
}

/** Opens the stores before the suite and removes everything after it. */
export function stepHarness(): Harness {
  const h = { root: '', tempDir: '' } as {
    root: string;
    tempDir: string;
    artifact: ArtifactStore;
    state: StateStore;
  };
  let postgres: RunningServer | undefined;
  beforeAll(async () => {
    h.root = mkdtempSync(join(tmpdir(), 'meridian-steps-'));
    h.tempDir = mkdtempSync(join(h.root, 'attempts-'));
    const ctx = { dataDir: h.root, logger: silentLogger };
    h.artifact = await createArtifactStore(`file:${join(h.root, 'artifacts')}`, ctx);
    postgres = await startPostgres();
    h.state = await createStateStore(postgres.url, ctx);
  });
  afterAll(async () => {
    await h.artifact?.close();
    await h.state?.close();
    await postgres?.stop();
    rmSync(h.root, { recursive: true, force: true });
  });
  return h;
}

export interface Attempt {
  ctx: StepContext;
  log: LogSink;
  lines: Pick<LogLine, 'stream' | 'line'>[];
  heartbeats(): number;
  /** Aborts ctx.signal, as a worker shutting down does. */
  shutdown(): void;
}

/** A context for attempt 1 of `step` in run `runId` of pipeline `pipeline`. */
export function attempt(
  h: Harness,
  step: string,
  overrides: { runId?: string; params?: Record<string, unknown>; inputs?: Record<string, StepOutput> } = {},
): Attempt {
  let beats = 0;
  const controller = new AbortController();
  const lines: Attempt['lines'] = [];
  const runId = overrides.runId ?? `run-${Math.random().toString(36).slice(2, 10)}`;
  const ctx: StepContext = {
    runId,
    pipeline: 'train',
    step,
    attempt: 1,
    params: overrides.params ?? {},
    logicalDate: new Date('2024-03-01T00:00:00Z'),
    inputs: overrides.inputs ?? {},
    idempotencyKey: `${runId}:${step}`,
    logger: silentLogger,
    heartbeat: async () => {
      beats++;
    },
    signal: controller.signal,
    services: { state: h.state, artifact: h.artifact, apiUrl: 'http://127.0.0.1:1' },
  };
  return {
    ctx,
    lines,
    log: { write: (stream, line) => lines.push({ stream, line }) },
    heartbeats: () => beats,
    shutdown: () => controller.abort(new Error('worker shutting down')),
  };
}

/** Whether a process still runs (a zombie awaiting its reaper does not count). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The entries left in a directory. */
export function leftIn(dir: string): string[] {
  return readdirSync(dir);
}
