import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isMeridianError, type MeridianError } from '../../src/core/errors.js';
import { definePipeline } from '../../src/pipelines/define.js';
import { createStepExecutor } from '../../src/pipelines/step-executor.js';
import type { Pipeline, Step } from '../../src/pipelines/types.js';
import { alive, attempt, leftIn, stepHarness } from './steps-harness.js';

const TRAIN_PY = `
import argparse, json, os, sys
p = argparse.ArgumentParser()
p.add_argument('--date'); p.add_argument('--out'); p.add_argument('--model')
a = p.parse_args()
print('loading rows', flush=True)
print('warning: small sample', file=sys.stderr, flush=True)
env = {k: os.environ[k] for k in os.environ if k.startswith('MERIDIAN_') or k == 'SEED'}
with open(os.path.join(a.out, 'model.json'), 'w') as f:
    json.dump({'model': a.model, 'date': a.date, 'cwd': os.getcwd(), 'env': env}, f)
print(json.dumps({'auc': 0.91, 'rows': 3}))
`;

async function failure(promise: Promise<unknown>): Promise<MeridianError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isMeridianError(err)) throw new Error(`expected a MeridianError, got ${String(err)}`);
  return err;
}

describe('executeStep', () => {
  const h = stepHarness();
  let scripts = '';
  const execute = () => createStepExecutor({ heartbeatMs: 50, killGraceMs: 200, tempDir: h.tempDir });
  const pipeline = (steps: Step[], params: Pipeline['params'] = {}) =>
    definePipeline({ name: 'train', params, steps });

  beforeAll(() => {
    scripts = join(h.root, 'scripts');
    mkdirSync(scripts);
    writeFileSync(join(scripts, 'train.py'), TRAIN_PY);
  });

  it('runs a python script that writes its model file and prints its metrics', async () => {
    const p = pipeline(
      [
        {
          name: 'fit',
          command:
            '/usr/bin/python3 train.py --date {{logicalDate}} --out {{outputDir}} --model "{{params.model}}"',
          cwd: scripts,
          env: { SEED: 'seed-{{params.seed}}' },
          outputs: ['model.json'],
        },
      ],
      { model: { type: 'string' }, seed: { type: 'integer', default: 7 } },
    );
    const a = attempt(h, 'fit', { runId: 'run-py', params: { model: 'churn v2', seed: 7 } });
    const output = await execute()(p.step('fit'), a.ctx, a.log);

    expect(output).toEqual({
      auc: 0.91,
      rows: 3,
      files: { 'model.json': 'Runs/train/run-py/fit/model.json' },
    });
    const model = JSON.parse((await h.artifact.getBuffer('Runs/train/run-py/fit/model.json')).toString());
    expect(model.model).toBe('churn v2');
    expect(model.date).toBe('2024-03-01T00:00:00.000Z');
    expect(model.cwd).toBe(scripts);
    expect(model.env).toMatchObject({
      SEED: 'seed-7',
      MERIDIAN_RUN_ID: 'run-py',
      MERIDIAN_STEP: 'fit',
      MERIDIAN_ATTEMPT: '1',
      MERIDIAN_LOGICAL_DATE: '2024-03-01T00:00:00.000Z',
      MERIDIAN_IDEMPOTENCY_KEY: 'run-py:fit',
    });
    expect(model.env.MERIDIAN_OUTPUT_DIR.startsWith(h.tempDir)).toBe(true);
    expect(existsSync(model.env.MERIDIAN_OUTPUT_DIR)).toBe(false);
    // stdout and stderr are separate pipes, so only the order within each stream is fixed.
    const lines = (stream: string) => a.lines.filter((l) => l.stream === stream).map((l) => l.line);
    expect(lines('stdout')).toEqual(['loading rows', '{"auc": 0.91, "rows": 3}']);
    expect(lines('stderr')).toEqual(['warning: small sample']);
  });

  it('hands a command local copies of the upstream files it names', async () => {
    await h.artifact.put('Runs/train/run-up/prepare/rows.csv', 'a,b\n1,2\n');
    const p = pipeline([
      { name: 'prepare', command: 'true', outputs: ['rows.csv'] },
      { name: 'count', needs: ['prepare'], command: 'cat {{inputs.prepare.files.rows.csv}}' },
    ]);
    const files = { 'rows.csv': 'Runs/train/run-up/prepare/rows.csv' };
    const a = attempt(h, 'count', { runId: 'run-up', inputs: { prepare: { files } } });
    expect(await execute()(p.step('count'), a.ctx, a.log)).toEqual({ files: {} });
    expect(a.lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['a,b', '1,2']);
    expect(a.lines.find((l) => l.stream === 'log')?.line).toMatch(
      /^running \["cat",".*\/in\/prepare\/rows\.csv"\]/,
    );
  });

  it('kills a command at its timeout, and the child process it started', async () => {
    const pidFile = join(h.root, 'child.pid');
    // The shell and its child ignore SIGTERM, so only the SIGKILL after the grace period stops them.
    const script = `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`;
    const p = pipeline([{ name: 'slow', command: `sh -c "${script}"`, timeoutMs: 300 }]);
    const a = attempt(h, 'slow');
    const started = Date.now();
    const err = await failure(execute()(p.step('slow'), a.ctx, a.log));

    expect(err.code).toBe('DEADLINE_EXCEEDED');
    expect(err.message).toBe(
      'step slow timed out after 300 ms; make it faster or raise steps.slow.timeoutMs',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(child).toBeGreaterThan(0);
    await expect.poll(() => alive(child), { timeout: 2_000 }).toBe(false);
  });

  it('fails clearly when the program is missing on this worker', async () => {
    const p = pipeline([{ name: 'fit', command: '{{params.tool}} --fast' }], { tool: { type: 'string' } });
    const a = attempt(h, 'fit', { params: { tool: 'no-such-trainer-xyz' } });
    const err = await failure(execute()(p.step('fit'), a.ctx, a.log));
    expect(err.code).toBe('FAILED_PRECONDITION');
    expect(err.message).toBe(
      'step fit: program "no-such-trainer-xyz" was not found on PATH on this worker; install it or fix steps.fit.command',
    );
  });

  it('fails a non-zero exit with its code and last stderr lines', async () => {
    const p = pipeline([
      { name: 'fit', command: `sh -c 'echo reading >&2; echo "bad label column: y" >&2; exit 3'` },
    ]);
    const a = attempt(h, 'fit');
    const err = await failure(execute()(p.step('fit'), a.ctx, a.log));
    expect(err.message).toBe(
      'step fit: command exited with code 3; last stderr lines:\nreading\nbad label column: y',
    );
    expect(err.details).toMatchObject({ step: 'fit', exitCode: 3 });
  });

  it('fails a command that did not write a declared output', async () => {
    const p = pipeline([
      { name: 'fit', command: `sh -c 'echo x > "$MERIDIAN_OUTPUT_DIR/other.txt"'`, outputs: ['model.json'] },
    ]);
    const a = attempt(h, 'fit');
    const err = await failure(execute()(p.step('fit'), a.ctx, a.log));
    expect(err.message).toBe(
      'step fit: declared output model.json was not written (the directory held: other.txt); write it to {{outputDir}}/model.json (MERIDIAN_OUTPUT_DIR)',
    );
  });

  it('fails a function that ignores its abort signal at its timeout', async () => {
    let seen: AbortSignal | undefined;
    const p = pipeline([
      {
        name: 'stuck',
        timeoutMs: 200,
        run: async (ctx) => {
          seen = ctx.signal;
          await new Promise((resolve) => setTimeout(resolve, 5_000));
        },
      },
    ]);
    const a = attempt(h, 'stuck');
    const started = Date.now();
    const err = await failure(execute()(p.step('stuck'), a.ctx, a.log));
    expect(err.code).toBe('DEADLINE_EXCEEDED');
    expect(err.message).toMatch(/^step stuck timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(seen?.aborted).toBe(true);
  });

  it('gives a function its inputs, params and stores, heartbeats while it runs, and answers its output', async () => {
    const p = pipeline([
      { name: 'prepare', run: async () => ({ rows: 2 }) },
      {
        name: 'fit',
        needs: ['prepare'],
        outputs: ['sum'],
        run: async (ctx) => {
          const { rows } = await ctx.services.state.query<{ n: number }>('SELECT $1::int + 40 AS n', [
            ctx.inputs.prepare?.rows as number,
          ]);
          await new Promise((resolve) => setTimeout(resolve, 250));
          return { sum: rows[0]?.n, model: ctx.params.model };
        },
      },
    ]);
    const a = attempt(h, 'fit', { inputs: { prepare: { rows: 2 } }, params: { model: 'churn' } });
    expect(await execute()(p.step('fit'), a.ctx, a.log)).toEqual({ sum: 42, model: 'churn' });
    expect(a.heartbeats()).toBeGreaterThanOrEqual(2);
  });

  it('fails a function whose answer lacks a declared output', async () => {
    const p = pipeline([{ name: 'fit', outputs: ['model', 'auc'], run: async () => ({ auc: 0.8 }) }]);
    const a = attempt(h, 'fit');
    const err = await failure(execute()(p.step('fit'), a.ctx, a.log));
    expect(err.message).toBe(
      "step fit: run's answer lacks declared outputs model; answer an object holding every key in outputs",
    );
  });

  it('stops a command when the worker shuts down', async () => {
    const p = pipeline([{ name: 'long', command: 'sleep 30' }]);
    const a = attempt(h, 'long');
    const running = failure(execute()(p.step('long'), a.ctx, a.log));
    setTimeout(() => a.shutdown(), 100);
    const err = await running;
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe('step long was stopped before it finished (worker shutting down)');
  });

  it('removes every per-attempt directory', () => {
    expect(leftIn(h.tempDir)).toEqual([]);
  });
});
