/**
 * The orchestrator inside a running platform (target all, embedded stores): the REST contract of
 * issue 7, idempotent triggers, failure and resume, gRPC TriggerJob, schedules, the CLI's runs and
 * backfill commands, and the built-in materialize pipeline.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelinesClass } from '../../src/api/grpc-pipelines.js';
import type { RunView, TriggerResult } from '../../src/pipelines/types.js';
import type { Platform } from '../../src/platform.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

const MODULE = resolve(import.meta.dirname, '../pipelines/fixtures/platform-pipelines.ts');

describe('pipelines in a running platform', { timeout: 120_000 }, () => {
  let running: TestPlatform;
  let platform: Platform;
  let url: string;

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const trigger = async (name: string, body: unknown = {}) => {
    const answer = await post(`/v1/pipelines/${name}/runs`, body);
    if (answer.status !== 200) throw new Error(`trigger ${name}: ${JSON.stringify(answer.body)}`);
    return answer.body as unknown as TriggerResult;
  };
  const getRun = async (runId: string) => (await (await fetch(`${url}/v1/runs/${runId}`)).json()) as RunView;
  const until = async (runId: string, statuses = ['COMPLETED', 'FAILED']) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const run = await getRun(runId);
      if (statuses.includes(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}: ${JSON.stringify(run)}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  };

  beforeAll(async () => {
    running = await startTestPlatform('pipelines-platform', {
      pipelines: { modules: [MODULE], sweepIntervalMs: 300, heartbeatMs: 200, heartbeatTimeoutMs: 5_000 },
    });
    platform = running.platform;
    url = platform.httpUrl;
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('lists the built-in pipelines and those of pipelines.modules with their steps', async () => {
    const { pipelines } = (await (await fetch(`${url}/v1/pipelines`)).json()) as {
      pipelines: { name: string; steps: { name: string; needs: string[] }[] }[];
    };
    const names = pipelines.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['materialize', 'train', 'drift-check', 'etl', 'gated', 'daily']),
    );
    const etl = pipelines.find((p) => p.name === 'etl')!;
    expect(etl.steps.map((s) => [s.name, s.needs])).toEqual([
      ['extract', []],
      ['transform', ['extract']],
      ['load', ['transform']],
    ]);
  });

  it('runs a DAG to completion, each step given the outputs of the steps it needs', async () => {
    const started = await trigger('etl', { params: { rows: 4 }, logicalDate: '2026-02-01T00:00:00Z' });
    expect(started).toEqual({ runId: expect.any(String), status: 'PENDING', created: true });
    const run = await until(started.runId);
    expect(run).toMatchObject({ runId: started.runId, pipeline: 'etl', status: 'COMPLETED', error: null });
    expect(run.params).toEqual({ rows: 4, label: 'x' });
    expect(run.logicalDate).toBe('2026-02-01T00:00:00.000Z');
    expect(run.steps.map((s) => [s.name, s.status, s.attempts, s.error])).toEqual([
      ['extract', 'COMPLETED', 1, null],
      ['transform', 'COMPLETED', 1, null],
      ['load', 'COMPLETED', 1, null],
    ]);
    expect(run.steps[2]!.output).toEqual({ total: 20, date: '2026-02-01T00:00:00.000Z' });
    const { lines } = (await (await fetch(`${url}/v1/runs/${started.runId}/logs`)).json()) as {
      lines: { step: string; line: string }[];
    };
    expect(lines.some((l) => l.step === 'extract' && l.line.includes('extracting'))).toBe(true);
  });

  it('answers the existing run for the same key, and starts a new one when forced', async () => {
    const body = { params: { rows: 2 }, logicalDate: '2026-02-02T00:00:00Z' };
    const first = await trigger('etl', body);
    await until(first.runId);
    const again = await trigger('etl', body);
    expect(again).toEqual({ runId: first.runId, status: 'COMPLETED', created: false });
    const withDefaultsSpelledOut = await trigger('etl', { ...body, params: { rows: 2, label: 'x' } });
    expect(withDefaultsSpelledOut.runId).toBe(first.runId);
    const forced = await trigger('etl', { ...body, force: true });
    expect(forced.created).toBe(true);
    expect(forced.runId).not.toBe(first.runId);
    await until(forced.runId);
  });

  it('rejects bad triggers naming the field by its JSON name', async () => {
    const date = await post('/v1/pipelines/etl/runs', { logicalDate: 'yesterday' });
    expect(date.status).toBe(400);
    expect(date.body).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'logicalDate' } });
    const param = await post('/v1/pipelines/etl/runs', { params: { rows: 'many' } });
    expect(param.status).toBe(400);
    expect(param.body).toMatchObject({ details: { field: 'params.rows' } });
    const unknownKey = await post('/v1/pipelines/etl/runs', { parameters: {} });
    expect(unknownKey.body).toMatchObject({ details: { field: 'parameters' } });
    const missing = await post('/v1/pipelines/nope/runs', {});
    expect(missing.status).toBe(404);
  });

  it('fails a run naming the step, the attempt and why, and resumes only the failed and later steps', async () => {
    const flag = join(mkdtempSync(join(tmpdir(), 'gate-')), 'open');
    const started = await trigger('gated', { params: { flag } });
    const failed = await until(started.runId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/gate/);
    expect(failed.error).toMatch(/attempt 2/);
    expect(failed.error).toMatch(/no flag file/);
    const byName = Object.fromEntries(failed.steps.map((s) => [s.name, s]));
    expect(byName.before).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(byName.gate).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(byName.after!.status).toBe('UPSTREAM_FAILED');
    const beforeOutput = byName.before!.output;

    writeFileSync(flag, 'open');
    const resumed = await post(`/v1/runs/${started.runId}/resume`, {});
    expect(resumed.status).toBe(200);
    const done = await until(started.runId, ['COMPLETED']);
    const after = Object.fromEntries(done.steps.map((s) => [s.name, s]));
    expect(after.before).toMatchObject({ status: 'COMPLETED', attempts: 1, output: beforeOutput });
    expect(after.gate!.status).toBe('COMPLETED');
    expect(after.after!.status).toBe('COMPLETED');
  });

  it('triggers over gRPC TriggerJob with the same idempotency', async () => {
    const Client = pipelinesClass();
    const client = new Client(
      platform.grpcUrl.replace('grpc://', ''),
      grpc.credentials.createInsecure(),
    ) as grpc.Client &
      Record<
        string,
        (req: unknown, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void
      >;
    const call = (req: unknown) =>
      new Promise<Record<string, unknown>>((done, fail) =>
        client.TriggerJob!(req, (err, res) => (err ? fail(err) : done(res))),
      );
    try {
      const request = {
        job_type: 'etl',
        params: { fields: { rows: { numberValue: 5 } } },
        logical_date: '2026-03-01T00:00:00Z',
      };
      const first = await call(request);
      expect(first).toMatchObject({ status: 'PENDING', created: true });
      await until(first.run_id as string);
      expect(await call(request)).toEqual({ run_id: first.run_id, status: 'COMPLETED', created: false });
      const bad = await call({ ...request, params: { fields: { rows: { stringValue: 'five' } } } }).catch(
        (e) => e,
      );
      expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(bad.details).toMatch(/params\.rows/);
    } finally {
      client.close();
    }
  });

  it('starts the runs a schedule owes, with the tick as logical date', async () => {
    const deadline = Date.now() + 20_000;
    let runs: RunView[] = [];
    while (Date.now() < deadline) {
      runs = (
        (await (await fetch(`${url}/v1/runs?pipeline=ticking&status=COMPLETED`)).json()) as {
          runs: RunView[];
        }
      ).runs;
      if (runs.length >= 2) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) {
      expect(run.trigger.kind).toBe('schedule');
      expect(new Date(run.logicalDate).getUTCMilliseconds()).toBe(0);
    }
  });

  it('backfills one run per interval from the CLI, skipping intervals that already succeeded', async () => {
    const args = [
      'pipelines',
      'backfill',
      'daily',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-04T00:00:00Z',
      '--concurrency',
      '2',
      '--url',
      url,
    ];
    const first = await runMeridian(args, {}, 60_000);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/3 intervals: 3 completed, 0 skipped, 0 failed/);
    const second = await runMeridian(args, {}, 60_000);
    expect(second.stdout).toMatch(/3 intervals: 0 completed, 3 skipped, 0 failed/);
    const { runs } = (await (await fetch(`${url}/v1/runs?pipeline=daily`)).json()) as { runs: RunView[] };
    const january = runs.filter((r) => r.logicalDate.startsWith('2026-01-0')).map((r) => r.logicalDate);
    expect(january.sort()).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
    expect(
      runs.filter((r) => r.trigger.kind === 'api' && r.logicalDate.startsWith('2026-01-0')),
    ).toHaveLength(3);
  });

  it('completes the built-in materialize with zero rows when there is nothing to load', async () => {
    const started = await trigger('materialize');
    const run = await until(started.runId);
    expect(run.status).toBe('COMPLETED');
    expect(run.steps[0]!.output).toMatchObject({ rows: 0 });
  });
});
