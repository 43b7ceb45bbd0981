import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { PipelineOrchestrator } from '../../src/pipelines/orchestrator.js';
import { createJobQueue } from '../../src/stores/queue/index.js';
import type { JobQueue } from '../../src/stores/queue/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { type RunningServer, serverAvailable, startPostgres, tempStoreDir } from '../helpers/servers.js';
import { finished } from './engine-harness.js';
import { exactlyOnce } from './fixtures/exactly-once.js';

const WORKER_CLI = resolve(import.meta.dirname, 'fixtures/worker-cli.ts');
const PIPELINE_MODULE = resolve(import.meta.dirname, 'fixtures/exactly-once.ts');
const DATE = new Date('2026-03-01T00:00:00Z');

interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | string | null>;
}

function spawnWorker(stateUrl: string, dataDir: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      WORKER_CLI,
      'worker',
      '--queues',
      'default',
      '--concurrency',
      '2',
      '--pipelines',
      PIPELINE_MODULE,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        MERIDIAN_STATE_STORE: stateUrl,
        MERIDIAN_JOB_QUEUE: 'state',
        MERIDIAN_ARTIFACT_STORE: 'file',
        MERIDIAN_DATA_DIR: dataDir,
        MERIDIAN_LOG_LEVEL: 'info',
        MERIDIAN_PIPELINES_HEARTBEAT_MS: '250',
        MERIDIAN_PIPELINES_HEARTBEAT_TIMEOUT_MS: '2000',
        MERIDIAN_PIPELINES_SWEEP_INTERVAL_MS: '400',
      },
    },
  );
  let tail = '';
  const exited = new Promise<number | string | null>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal)),
  );
  const ready = new Promise<void>((resolveReady, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      tail = `${tail}\n${line}`.slice(-3000);
      if (line.includes('"worker ready"')) resolveReady();
    });
    void exited.then((how) => reject(new Error(`worker exited (${how}) before it was ready:${tail}`)));
  });
  return { child, ready, exited };
}

async function rows<T>(state: StateStore, sql: string): Promise<T[]> {
  return (await state.query<T & Record<string, unknown>>(sql)).rows;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(serverAvailable('postgres'))('pipeline workers on one PostgreSQL', () => {
  let server: RunningServer;
  let dataDir: string;
  let state: StateStore;
  let queue: JobQueue;
  let orchestrator: PipelineOrchestrator;

  beforeAll(async () => {
    server = await startPostgres();
    dataDir = tempStoreDir('pipeline-workers');
    const ctx = { dataDir, logger: silentLogger };
    state = await createStateStore(server.url, ctx);
    queue = await createJobQueue('state', ctx, state, {
      maintenanceIntervalSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    orchestrator = await PipelineOrchestrator.open({ state, queue, logger: silentLogger });
    orchestrator.register(exactlyOnce);
    await state.exec(`
      CREATE TABLE test_executions (key text NOT NULL, attempt integer NOT NULL, pid integer NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE TABLE test_ledger (key text PRIMARY KEY, amount integer NOT NULL, pid integer NOT NULL);`);
  }, 60_000);
  afterAll(async () => {
    await queue?.close();
    await state?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates exactly one run when two processes trigger one key at once', async () => {
    const ctx = { dataDir, logger: silentLogger };
    const otherState = await createStateStore(server.url, ctx);
    const otherQueue = await createJobQueue('state', ctx, otherState);
    try {
      const other = await PipelineOrchestrator.open({
        state: otherState,
        queue: otherQueue,
        logger: silentLogger,
      });
      other.register(exactlyOnce);
      const request = { params: { amount: 1 }, logicalDate: DATE };
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 ? other : orchestrator).trigger('exactly-once', request)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.runId)).size).toBe(1);
      const count = await rows<{ n: number }>(
        state,
        "SELECT count(*)::int AS n FROM pipeline_runs WHERE params->>'amount' = '1'",
      );
      expect(count[0]?.n).toBe(1);
    } finally {
      await otherQueue.close();
      await otherState.close();
    }
  });

  it('finishes a run exactly once when the worker running a step is killed with SIGKILL mid-step', async () => {
    const workers = [0, 1, 2].map(() => spawnWorker(server.url, dataDir));
    try {
      await Promise.all(workers.map((w) => w.ready));
      const { runId } = await orchestrator.trigger('exactly-once', {
        params: { amount: 7 },
        logicalDate: DATE,
      });
      const first = await waitFor(
        'the first charge attempt',
        async () =>
          (
            await rows<{ pid: number }>(
              state,
              `SELECT pid FROM test_executions WHERE key = '${runId}/charge'`,
            )
          )[0],
        20_000,
      );
      const victim = workers.find((w) => w.child.pid === first.pid);
      expect(victim).toBeDefined();
      await new Promise((r) => setTimeout(r, 300));
      victim!.child.kill('SIGKILL');
      expect(await victim!.exited).toBe('SIGKILL');

      const run = await finished({ orchestrator }, runId, 30_000);
      expect(run.status).toBe('COMPLETED');
      const charge = run.steps.find((s) => s.name === 'charge')!;
      expect(charge).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null });
      const executions = await rows<{ key: string; attempt: number; pid: number }>(
        state,
        `SELECT key, attempt, pid FROM test_executions WHERE key = '${runId}/charge' ORDER BY at`,
      );
      expect(executions.map((e) => [e.key, e.attempt])).toEqual([
        [`${runId}/charge`, 1],
        [`${runId}/charge`, 2],
      ]);
      expect(executions[1]?.pid).not.toBe(first.pid);
      const ledger = await rows<{ key: string; amount: number }>(
        state,
        `SELECT key, amount FROM test_ledger WHERE key = '${runId}/charge'`,
      );
      expect(ledger).toEqual([{ key: `${runId}/charge`, amount: 7 }]);
      expect(run.steps.find((s) => s.name === 'report')?.output).toEqual({
        charged: 7,
        pid: executions[1]?.pid,
      });
    } finally {
      for (const w of workers)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes.filter((c) => c !== 'SIGKILL')).toEqual([0, 0]);
    }
  }, 90_000);
});
