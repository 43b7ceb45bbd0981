import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMeridianError } from '../core/errors.js';
import { definePipeline, isPipeline } from './define.js';
import type { PipelineSpec, Step } from './types.js';

const noop = async () => ({});
const fn = (name: string, needs?: string[], extra: Partial<Step> = {}): Step =>
  ({ name, needs, run: noop, ...extra }) as Step;

/** The field and message definePipeline rejects spec with. */
function rejection(spec: PipelineSpec): { field: unknown; message: string } {
  try {
    definePipeline(spec);
  } catch (err) {
    if (isMeridianError(err, 'INVALID_ARGUMENT')) return { field: err.details.field, message: err.message };
    throw err;
  }
  throw new Error('definePipeline accepted the spec');
}

describe('definePipeline', () => {
  it('orders steps after the steps they need, otherwise as defined', () => {
    const p = definePipeline({
      name: 'etl_2',
      steps: [
        fn('load', ['transform']),
        fn('extract'),
        fn('transform', ['extract']),
        fn('report'),
        fn('audit', ['extract']),
      ],
    });
    expect(p.order).toEqual(['extract', 'transform', 'load', 'report', 'audit']);
    expect(p.step('load').needs).toEqual(['transform']);
    expect(p.params).toEqual({});
  });

  it('marks what it answers so loaders recognise definitions', () => {
    const p = definePipeline({ name: 'a', steps: [fn('s')] });
    expect(isPipeline(p)).toBe(true);
    expect(isPipeline({ name: 'a', order: ['s'], steps: [] })).toBe(false);
    expect(isPipeline(null)).toBe(false);
  });

  it('answers NOT_FOUND for a step it does not have', () => {
    const p = definePipeline({ name: 'a', steps: [fn('s')] });
    expect(() => p.step('t')).toThrow('pipeline a has no step "t"');
  });

  it('rejects a pipeline name outside lowercase letters, digits, - and _', () => {
    expect(rejection({ name: 'Train', steps: [fn('s')] })).toEqual({
      field: 'name',
      message:
        'name: "Train" is not a valid name; use 1-63 lowercase letters, digits, "-" and "_", starting with a letter or digit',
    });
    expect(rejection({ name: 'a.b', steps: [fn('s')] }).field).toBe('name');
    expect(rejection({ name: '', steps: [fn('s')] }).field).toBe('name');
  });

  it('rejects no steps, a badly named step and a duplicate step', () => {
    expect(rejection({ name: 'a', steps: [] }).message).toBe('steps: must be a non-empty array of steps');
    expect(rejection({ name: 'a', steps: [fn('ok'), fn('Bad Step')] }).field).toBe('steps[1].name');
    expect(rejection({ name: 'a', steps: [fn('s'), fn('s')] })).toEqual({
      field: 'steps.s',
      message: 'steps.s: is defined twice; step names must be unique; rename one of them',
    });
  });

  it('rejects a step that needs an unknown step', () => {
    expect(rejection({ name: 'a', steps: [fn('prepare'), fn('train', ['fit'])] })).toEqual({
      field: 'steps.train.needs',
      message: 'steps.train.needs: names unknown step "fit"; define it or use one of: prepare, train',
    });
  });

  it('rejects a cycle, naming it', () => {
    const r = rejection({ name: 'a', steps: [fn('start'), fn('a', ['start', 'b']), fn('b', ['a'])] });
    expect(r.field).toBe('steps.a.needs');
    expect(r.message).toBe(
      'steps.a.needs: steps form a cycle: a -> b -> a; remove one of these needs so the steps form a DAG',
    );
    expect(rejection({ name: 'a', steps: [fn('x', ['x'])] }).message).toMatch(/steps form a cycle: x -> x/);
    expect(rejection({ name: 'a', steps: [fn('p', ['r']), fn('q', ['p']), fn('r', ['q'])] }).message).toMatch(
      /cycle: p -> r -> q -> p/,
    );
  });

  it('rejects a step that is neither a function nor a command, or both', () => {
    expect(rejection({ name: 'a', steps: [{ name: 's' } as Step] }).message).toBe(
      'steps.s: has neither run nor command; give a step either a run function or a command',
    );
    expect(
      rejection({ name: 'a', steps: [{ name: 's', run: noop, command: 'true' } as unknown as Step] }).message,
    ).toMatch(/^steps\.s: has both run and command/);
    expect(rejection({ name: 'a', steps: [{ name: 's', run: 'x' } as unknown as Step] }).field).toBe(
      'steps.s.run',
    );
  });

  it('ignores settings given as undefined when telling functions from commands', () => {
    const p = definePipeline({
      name: 'a',
      steps: [{ name: 's', run: noop, command: undefined } as unknown as Step],
    });
    expect('command' in p.step('s')).toBe(false);
  });

  it('rejects a misspelt step setting', () => {
    expect(
      rejection({ name: 'a', steps: [{ name: 's', run: noop, need: ['x'] } as unknown as Step] }).field,
    ).toBe('steps.s.need');
  });

  it('rejects out-of-range retries, delays and timeouts, and a bad queue name', () => {
    expect(rejection({ name: 'a', steps: [fn('s', [], { retries: -1 })] }).message).toBe(
      'steps.s.retries: must be an integer from 0 to 100, got -1',
    );
    expect(rejection({ name: 'a', steps: [fn('s', [], { retries: 1.5 })] }).field).toBe('steps.s.retries');
    expect(rejection({ name: 'a', steps: [fn('s', [], { timeoutMs: 0 })] }).field).toBe('steps.s.timeoutMs');
    expect(rejection({ name: 'a', steps: [fn('s', [], { timeoutMs: 8 * 86_400_000 })] }).field).toBe(
      'steps.s.timeoutMs',
    );
    expect(rejection({ name: 'a', steps: [fn('s', [], { retryDelayMs: -5 })] }).field).toBe(
      'steps.s.retryDelayMs',
    );
    expect(rejection({ name: 'a', steps: [fn('s', [], { queue: 'gpu queue' })] }).field).toBe(
      'steps.s.queue',
    );
  });

  it('rejects outputs named twice', () => {
    expect(rejection({ name: 'a', steps: [fn('s', [], { outputs: ['model', 'model'] })] }).message).toBe(
      'steps.s.outputs: names "model" twice; outputs must be unique',
    );
    expect(
      rejection({ name: 'a', steps: [{ name: 's', command: 'true', outputs: ['../escape'] }] }).field,
    ).toBe('steps.s.outputs');
  });

  it('rejects an invalid cron expression and an unknown time zone', () => {
    const steps = [fn('s')];
    const cron = rejection({ name: 'a', steps, schedule: { cron: '61 * * * *' } });
    expect(cron.field).toBe('schedule.cron');
    expect(cron.message).toMatch(
      /^schedule\.cron: "61 \* \* \* \*" is not a valid cron expression \(.*minute.*\)/,
    );
    expect(rejection({ name: 'a', steps, schedule: { cron: '* * *' } }).field).toBe('schedule.cron');
    expect(
      rejection({ name: 'a', steps, schedule: { cron: '0 3 * * *', timezone: 'Mars/Base' } }).message,
    ).toBe('schedule.timezone: "Mars/Base" is not an IANA time zone; use e.g. "UTC" or "Europe/Paris"');
    expect(rejection({ name: 'a', steps, schedule: { cron: '0 3 * * *', maxCatchup: 0 } }).field).toBe(
      'schedule.maxCatchup',
    );
    expect(
      definePipeline({ name: 'a', steps, schedule: { cron: '0 0 3 * * *', timezone: 'Europe/Berlin' } })
        .schedule,
    ).toEqual({
      cron: '0 0 3 * * *',
      timezone: 'Europe/Berlin',
    });
  });

  it('rejects parameter defaults of the wrong type and unknown parameter types', () => {
    const steps = [fn('s')];
    expect(
      rejection({ name: 'a', steps, params: { epochs: { type: 'integer', default: 2.5 } } }).message,
    ).toBe('params.epochs.default: must be an integer, got number 2.5; give a integer default or none');
    expect(rejection({ name: 'a', steps, params: { on: { type: 'boolean', default: 'yes' } } }).field).toBe(
      'params.on.default',
    );
    expect(rejection({ name: 'a', steps, params: { x: { type: 'date' as 'string' } } }).field).toBe(
      'params.x.type',
    );
    expect(rejection({ name: 'a', steps, params: { 'bad-name': { type: 'string' } } }).field).toBe(
      'params.bad-name',
    );
  });
});

describe('definePipeline with command steps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-define-'));
  const script = join(dir, 'run.sh');
  writeFileSync(script, '#!/bin/sh\n');
  chmodSync(script, 0o755);
  writeFileSync(join(dir, 'data.txt'), '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cmd = (name: string, command: string, extra: Partial<Step> = {}): Step =>
    ({ name, command, ...extra }) as Step;

  it('accepts a program on PATH, and a path relative to the step cwd', () => {
    const p = definePipeline({
      name: 'a',
      steps: [cmd('s', 'sh -c "exit 0"'), cmd('t', './run.sh', { cwd: dir } as Partial<Step>)],
    });
    expect(p.order).toEqual(['s', 't']);
  });

  it('rejects a program that is not on PATH or not an executable file', () => {
    expect(rejection({ name: 'a', steps: [cmd('train', 'no-such-trainer --fast')] })).toEqual({
      field: 'steps.train.command',
      message:
        'steps.train.command: program "no-such-trainer" was not found on PATH; install it or give the path of an executable file',
    });
    expect(
      rejection({ name: 'a', steps: [cmd('s', './data.txt', { cwd: dir } as Partial<Step>)] }).message,
    ).toMatch(`program "./data.txt" was not found at ${join(dir, 'data.txt')}`);
  });

  it('rejects an unterminated quote, an empty command and a missing cwd', () => {
    expect(rejection({ name: 'a', steps: [cmd('s', `echo 'x`)] }).message).toBe(
      'steps.s.command: has an unterminated single quote at character 6; close every quote',
    );
    expect(rejection({ name: 'a', steps: [cmd('s', '   ')] }).field).toBe('steps.s.command');
    expect(
      rejection({ name: 'a', steps: [cmd('s', 'true', { cwd: join(dir, 'nope') } as Partial<Step>)] }).field,
    ).toBe('steps.s.cwd');
  });

  it('rejects templates naming unknown parameters, steps and files', () => {
    const params = { model: { type: 'string' as const } };
    expect(rejection({ name: 'a', params, steps: [cmd('s', 'echo {{params.modle}}')] }).message).toBe(
      'steps.s.command: {{params.modle}} names unknown parameter "modle"; declare it or use one of: model',
    );
    expect(rejection({ name: 'a', steps: [cmd('s', 'echo {{date}}')] }).message).toMatch(
      /\{\{date\}\} is not a known template/,
    );
    expect(rejection({ name: 'a', steps: [cmd('p', 'true'), cmd('s', 'echo {{inputs.p.x}}')] }).message).toBe(
      'steps.s.command: {{inputs.p.x}} names step "p", which is not in needs; add p to steps.s.needs',
    );
    expect(rejection({ name: 'a', steps: [cmd('s', 'echo {{inputs.q.x}}')] }).message).toMatch(
      /names unknown step "q"/,
    );
    const files = rejection({
      name: 'a',
      steps: [
        cmd('p', 'true', { outputs: ['model.json'] }),
        cmd('s', 'cat {{inputs.p.files.model.bin}}', { needs: ['p'] }),
      ],
    });
    expect(files.message).toBe(
      'steps.s.command: {{inputs.p.files.model.bin}} names file "model.bin", which step p does not declare in outputs; declare it in steps.p.outputs',
    );
    expect(
      rejection({ name: 'a', steps: [cmd('s', 'true', { env: { MODEL: '{{params.x}}' } } as Partial<Step>)] })
        .field,
    ).toBe('steps.s.env.MODEL');
  });

  it('accepts templates it can resolve, including a templated program', () => {
    const p = definePipeline({
      name: 'a',
      params: { python: { type: 'string', default: 'python3' } },
      steps: [
        cmd('p', 'true', { outputs: ['model.json'] }),
        cmd('s', '{{params.python}} x.py {{inputs.p.files.model.json}} {{inputs.p.auc}} {{logicalDate}}', {
          needs: ['p'],
        }),
      ],
    });
    expect(p.order).toEqual(['p', 's']);
  });
});
