import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../src/pipelines/define.js';
import { type StepJob, stepQueue } from '../../src/pipelines/dispatch.js';
import { planSteps } from '../../src/pipelines/orchestrator.js';
import { runKey } from '../../src/pipelines/run-key.js';
import { createRun } from '../../src/pipelines/run-store.js';
import { claimStep } from '../../src/pipelines/step-store.js';
import type { StepContext } from '../../src/pipelines/types.js';
import type { Job } from '../../src/stores/queue/port.js';
import { rejection } from '../helpers/errors.js';
import { tempStoreDir } from '../helpers/servers.js';
import { type Engine, finished, openEngine, stepStates } from './engine-harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const DATE = new Date('2026-03-01T00:00:00Z');

describe('orchestrator on PGlite with an in-process worker', () => {
  let engine: Engine;

  beforeAll(async () => {
    engine = await openEngine(`pglite:${join(tempStoreDir('orchestrator'), 'state')}`);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('runs steps in DAG order, giving each the outputs of the steps it needs, its params and logical date', async () => {
    const seen: Record<string, Pick<StepContext, 'inputs' | 'params' | 'attempt' | 'idempotencyKey'>> = {};
    const order: string[] = [];
    const step = (name: string, needs: string[], value: number) => ({
      name,
      needs,
      run: async (ctx: StepContext) => {
        order.push(`start ${name}`);
        seen[name] = {
          inputs: ctx.inputs,
          params: ctx.params,
          attempt: ctx.attempt,
          idempotencyKey: ctx.idempotencyKey,
        };
        ctx.logger.info({ value }, `${name} at ${ctx.logicalDate.toISOString()}`);
        await sleep(name === 'left' ? 150 : 20);
        order.push(`end ${name}`);
        return { value };
      },
    });
    engine.orchestrator.register(
      definePipeline({
        name: 'diamond',
        params: { scale: { type: 'integer', default: 10 }, label: { type: 'string' } },
        steps: [
          step('join', ['left', 'right'], 4),
          step('left', ['root'], 2),
          step('right', ['root'], 3),
          step('root', [], 1),
        ],
      }),
    );
    const { runId, created, status } = await engine.orchestrator.trigger('diamond', {
      params: { label: 'x' },
      logicalDate: DATE,
    });
    expect([created, status]).toEqual([true, 'PENDING']);
    const run = await finished(engine, runId);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps.map((s) => [s.name, s.status, s.attempts, s.output])).toEqual([
      ['root', 'COMPLETED', 1, { value: 1 }],
      ['left', 'COMPLETED', 1, { value: 2 }],
      ['right', 'COMPLETED', 1, { value: 3 }],
      ['join', 'COMPLETED', 1, { value: 4 }],
    ]);
    expect(order.indexOf('start join')).toBeGreaterThan(order.indexOf('end left'));
    expect(order.indexOf('start left')).toBeGreaterThan(order.indexOf('end root'));
    expect(seen.join).toEqual({
      inputs: { left: { value: 2 }, right: { value: 3 } },
      params: { scale: 10, label: 'x' },
      attempt: 1,
      idempotencyKey: `${runId}/join`,
    });
    expect(seen.left?.inputs).toEqual({ root: { value: 1 } });
    expect(run).toMatchObject({
      params: { scale: 10, label: 'x' },
      logicalDate: DATE.toISOString(),
      error: null,
    });
    expect(run.key).toBe(runKey('diamond', { label: 'x', scale: 10 }, DATE));
    const logs = await engine.orchestrator.logs(runId, { step: 'join' });
    expect(logs.map((l) => [l.step, l.attempt, l.stream, l.line])).toEqual([
      ['join', 1, 'log', `info join at ${DATE.toISOString()} {"value":4}`],
    ]);
    const all = await engine.orchestrator.logs(runId);
    expect(all.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(await engine.orchestrator.logs(runId, { afterSeq: 3 })).toEqual([all[3]]);
  });

  it('answers the run a key already has while it runs and after it completed, and starts another with force', async () => {
    let runs = 0;
    engine.orchestrator.register(
      definePipeline({
        name: 'once',
        params: { a: { type: 'integer' }, b: { type: 'object', default: { x: 1, y: 2 } } },
        steps: [{ name: 'only', run: async () => ({ n: ++runs }) }],
      }),
    );
    const first = await engine.orchestrator.trigger('once', { params: { a: 1 }, logicalDate: DATE });
    const reordered = await engine.orchestrator.trigger('once', {
      params: { b: { y: 2, x: 1 }, a: 1 },
      logicalDate: DATE,
    });
    expect(first.created).toBe(true);
    expect(reordered).toMatchObject({ runId: first.runId, created: false });
    await finished(engine, first.runId);
    expect(await engine.orchestrator.trigger('once', { params: { a: 1 }, logicalDate: DATE })).toEqual({
      runId: first.runId,
      status: 'COMPLETED',
      created: false,
    });
    const forced = await engine.orchestrator.trigger('once', {
      params: { a: 1 },
      logicalDate: DATE,
      force: true,
    });
    expect(forced.created).toBe(true);
    expect(forced.runId).not.toBe(first.runId);
    await finished(engine, forced.runId);
    expect(await engine.orchestrator.trigger('once', { params: { a: 1 }, logicalDate: DATE })).toMatchObject({
      runId: forced.runId,
      created: false,
    });
    const otherDate = await engine.orchestrator.trigger('once', {
      params: { a: 1 },
      logicalDate: new Date('2026-03-02T00:00:00Z'),
    });
    expect(otherDate.created).toBe(true);
    await finished(engine, otherDate.runId);
    expect(runs).toBe(3);
  });

  it('creates exactly one run when one key is triggered many times at once', async () => {
    engine.orchestrator.register(
      definePipeline({ name: 'racy', steps: [{ name: 'only', run: async () => ({}) }] }),
    );
    const results = await Promise.all(
      Array.from({ length: 12 }, () => engine.orchestrator.trigger('racy', { logicalDate: DATE })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(await engine.orchestrator.runs({ pipeline: 'racy' })).toHaveLength(1);
  });

  it('fails a step that always fails on its last attempt, with its error and attempt count, and fails the run naming them', async () => {
    let attempts = 0;
    engine.orchestrator.register(
      definePipeline({
        name: 'doomed',
        steps: [
          {
            name: 'flaky',
            retries: 2,
            retryDelayMs: 0,
            run: async (ctx) => {
              attempts++;
              throw new Error(`disk full on attempt ${ctx.attempt}`);
            },
          },
          { name: 'after', needs: ['flaky'], run: async () => ({}) },
          { name: 'later', needs: ['after'], run: async () => ({}) },
        ],
      }),
    );
    const { runId } = await engine.orchestrator.trigger('doomed', { logicalDate: DATE });
    const run = await finished(engine, runId);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('step flaky failed on attempt 3 of 3: disk full on attempt 3');
    expect(stepStates(run)).toEqual({
      flaky: ['FAILED', 3, 'attempt 3 of 3: disk full on attempt 3'],
      after: ['UPSTREAM_FAILED', 0, 'step flaky failed'],
      later: ['UPSTREAM_FAILED', 0, 'step flaky failed'],
    });
    expect(attempts).toBe(3);
    const again = await engine.orchestrator.trigger('doomed', { logicalDate: DATE });
    expect(again.created).toBe(true);
    await finished(engine, again.runId);
    const metrics = await engine.registry.getSingleMetricAsString('meridian_pipeline_runs_total');
    expect(metrics).toContain('meridian_pipeline_runs_total{pipeline="doomed",status="FAILED"} 2');
  });

  it('retries a failing step and completes it on a later attempt, then its successor', async () => {
    engine.orchestrator.register(
      definePipeline({
        name: 'recovers',
        steps: [
          {
            name: 'fetch',
            retries: 2,
            retryDelayMs: 0,
            run: async (ctx) => {
              if (ctx.attempt < 2) throw new Error('connection reset');
              return { rows: 7 };
            },
          },
          { name: 'use', needs: ['fetch'], run: async (ctx) => ({ got: ctx.inputs.fetch?.rows }) },
        ],
      }),
    );
    const { runId } = await engine.orchestrator.trigger('recovers', { logicalDate: DATE });
    const run = await finished(engine, runId);
    expect(run.status).toBe('COMPLETED');
    expect(stepStates(run)).toEqual({ fetch: ['COMPLETED', 2, null], use: ['COMPLETED', 1, null] });
    expect(run.steps[1]?.output).toEqual({ got: 7 });
  });

  it('stops an attempt at its timeout and fails the step with the timeout as its error', async () => {
    engine.orchestrator.register(
      definePipeline({
        name: 'slow',
        steps: [{ name: 'hang', retries: 0, timeoutMs: 300, run: () => sleep(5_000) }],
      }),
    );
    const started = Date.now();
    const run = await finished(
      engine,
      (await engine.orchestrator.trigger('slow', { logicalDate: DATE })).runId,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(run.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(run.steps[0]?.error).toMatch(/^attempt 1 of 1: step hang timed out after 300 ms/);
  });

  it('resumes a failed run: only the failed and later steps run again, fed the checkpoints of the completed ones', async () => {
    const ran: string[] = [];
    const record = <T>(name: string, output: T): T => {
      ran.push(name);
      return output;
    };
    let broken = true;
    engine.orchestrator.register(
      definePipeline({
        name: 'resumable',
        steps: [
          { name: 'extract', run: async () => record('extract', { rows: 5 }) },
          { name: 'side', run: async () => record('side', { ok: true }) },
          {
            name: 'train',
            needs: ['extract'],
            retries: 0,
            run: async (ctx) => {
              ran.push('train');
              if (broken) throw new Error('out of memory');
              return { fitted: ctx.inputs.extract?.rows };
            },
          },
          {
            name: 'publish',
            needs: ['train', 'side'],
            run: async (ctx) => record('publish', ctx.inputs.train ?? {}),
          },
        ],
      }),
    );
    const { runId } = await engine.orchestrator.trigger('resumable', { logicalDate: DATE });
    const failed = await finished(engine, runId);
    expect(stepStates(failed)).toMatchObject({
      train: ['FAILED', 1, 'attempt 1 of 1: out of memory'],
      publish: ['UPSTREAM_FAILED', 0, 'step train failed'],
    });
    expect((await rejection(engine.orchestrator.resume('no-such-run'))).code).toBe('NOT_FOUND');
    broken = false;
    const resumed = await engine.orchestrator.resume(runId);
    expect(resumed.status).toBe('RUNNING');
    const done = await finished(engine, runId);
    expect(done).toMatchObject({ status: 'COMPLETED', error: null });
    expect(done.steps.find((s) => s.name === 'publish')?.output).toEqual({ fitted: 5 });
    expect(ran.filter((s) => s === 'extract')).toHaveLength(1);
    expect(ran.filter((s) => s === 'side')).toHaveLength(1);
    expect(ran.filter((s) => s === 'train')).toHaveLength(2);
    const again = await rejection(engine.orchestrator.resume(runId));
    expect(again.code).toBe('FAILED_PRECONDITION');
    expect(again.message).toContain('only a FAILED run can be resumed');
  });

  it('fails a step on its last attempt when its worker stops heartbeating, and counts queued steps per queue', async () => {
    engine.orchestrator.register(
      definePipeline({
        name: 'abandoned',
        steps: [{ name: 'stuck', queue: 'nobody', retries: 0, run: async () => ({ never: true }) }],
      }),
    );
    const { runId } = await engine.orchestrator.trigger('abandoned', { logicalDate: DATE });
    const depth = await engine.registry.getSingleMetricAsString('meridian_pipeline_queue_depth');
    expect(depth).toContain('meridian_pipeline_queue_depth{queue="nobody"} 1');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // A worker that claims the step and then dies: it never heartbeats and never answers.
    const dead = await engine.queue.work(
      stepQueue('nobody'),
      async (job: Job<StepJob>) => {
        await claimStep(engine.state, { runId, step: 'stuck', jobId: job.id, attempt: job.retryCount + 1 });
        await gate;
      },
      { pollingIntervalSeconds: 0.1 },
    );
    try {
      const run = await finished(engine, runId);
      expect(run.status).toBe('FAILED');
      expect(run.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(run.steps[0]?.error).toMatch(/^attempt 1 of 1: its worker stopped heartbeating/);
      expect(run.error).toMatch(/^step stuck failed on attempt 1 of 1: its worker stopped heartbeating/);
    } finally {
      release();
      await engine.queue.stopWork(dead);
    }
  });

  it('sends the steps of a run whose trigger died between creating it and queueing them, once the sweeper looks', async () => {
    const pipeline = definePipeline({
      name: 'orphan',
      steps: [{ name: 'only', run: async () => ({ ok: 1 }) }],
    });
    engine.orchestrator.register(pipeline);
    const created = await createRun(
      engine.state,
      {
        runId: 'orphan-run',
        pipeline: 'orphan',
        params: {},
        logicalDate: DATE,
        key: runKey('orphan', {}, DATE),
        trigger: { kind: 'cli' },
        steps: planSteps(pipeline),
      },
      false,
    );
    expect(created.ready.map((s) => s.name)).toEqual(['only']);
    const run = await finished(engine, 'orphan-run');
    expect(run).toMatchObject({ status: 'COMPLETED', trigger: { kind: 'cli' } });
    expect(run.steps[0]?.output).toEqual({ ok: 1 });
  });

  it('rejects unknown pipelines, wrong parameters and unknown runs with the offending name', async () => {
    engine.orchestrator.register(
      definePipeline({
        name: 'typed',
        params: { n: { type: 'integer' } },
        steps: [{ name: 's', run: async () => ({}) }],
      }),
    );
    const unknown = await rejection(engine.orchestrator.trigger('nope'));
    expect([unknown.code, unknown.details.field]).toEqual(['NOT_FOUND', 'name']);
    const wrong = await rejection(engine.orchestrator.trigger('typed', { params: { n: '3' } }));
    expect([wrong.code, wrong.details.field]).toEqual(['INVALID_ARGUMENT', 'params.n']);
    const date = await rejection(
      engine.orchestrator.trigger('typed', { params: { n: 3 }, logicalDate: new Date('x') }),
    );
    expect(date.details.field).toBe('logicalDate');
    expect((await rejection(engine.orchestrator.run('missing'))).code).toBe('NOT_FOUND');
    expect((await rejection(engine.orchestrator.runs({ limit: 0 }))).details.field).toBe('limit');
  });
});
