import { describe, expect, it } from 'vitest';
import { renderTemplate, type TemplateValues, templateRefs, templateShapeProblem, walk } from './template.js';

const values: TemplateValues = {
  logicalDate: new Date('2024-03-01T00:00:00Z'),
  runId: 'run-1',
  attempt: 2,
  outputDir: '/tmp/out',
  pipeline: 'train',
  step: 'fit',
  idempotencyKey: 'key-1',
  params: { model: 'churn', depth: 4, flags: { fast: true } },
  inputs: { prepare: { rows: 10, files: { 'train.csv': 'Runs/train/run-1/prepare/train.csv' } } },
};

describe('renderTemplate', () => {
  it('fills in the run values, the logical date as ISO 8601', () => {
    expect(
      renderTemplate(
        '{{logicalDate}}|{{runId}}|{{attempt}}|{{outputDir}}|{{pipeline}}|{{step}}|{{idempotencyKey}}',
        values,
        'f',
      ),
    ).toBe('2024-03-01T00:00:00.000Z|run-1|2|/tmp/out|train|fit|key-1');
  });

  it('fills in parameters, objects as JSON, and tolerates spaces inside the braces', () => {
    expect(
      renderTemplate('--model={{ params.model }} --depth {{params.depth}} {{params.flags}}', values, 'f'),
    ).toBe('--model=churn --depth 4 {"fast":true}');
  });

  it('fills in an input key whose name holds dots', () => {
    expect(renderTemplate('{{inputs.prepare.files.train.csv}} {{inputs.prepare.rows}}', values, 'f')).toBe(
      'Runs/train/run-1/prepare/train.csv 10',
    );
  });

  it('rejects an unknown template naming the field', () => {
    expect(() => renderTemplate('{{date}}', values, 'steps.fit.command')).toThrow(
      /^steps\.fit\.command: \{\{date\}\} is not a known template; use \{\{logicalDate\}\}/,
    );
  });

  it('rejects a parameter or input the run does not have', () => {
    expect(() => renderTemplate('{{params.missing}}', values, 'f')).toThrow(
      "f: {{params.missing}} has no value in this run; the run's parameters are: model, depth, flags",
    );
    expect(() => renderTemplate('{{inputs.prepare.cols}}', values, 'f')).toThrow(
      /the output of prepare has the keys: rows, files/,
    );
    expect(() => renderTemplate('{{inputs.other.x}}', values, 'f')).toThrow(
      /the step's inputs are: prepare; list the step in needs/,
    );
  });

  it('rejects empty and unclosed templates', () => {
    expect(() => renderTemplate('{{}}', values, 'f')).toThrow(/incomplete template/);
    expect(() => renderTemplate('{{params.}}', values, 'f')).toThrow(/incomplete template/);
    expect(() => renderTemplate('x {{runId', values, 'f')).toThrow(/does not form a template/);
  });
});

describe('templateShapeProblem', () => {
  it('wants exactly one name after params and a step and key after inputs', () => {
    const shape = (text: string) => templateShapeProblem(templateRefs(text, 'f')[0]!);
    expect(shape('{{params.a}}')).toBeNull();
    expect(shape('{{params.a.b}}')).toBe('{{params.a.b}} must be {{params.NAME}}');
    expect(shape('{{inputs.s}}')).toBe('{{inputs.s}} must be {{inputs.STEP.KEY}}');
    expect(shape('{{runId.x}}')).toBe('{{runId.x}} has parts after runId');
  });
});

describe('walk', () => {
  it('prefers the longest key that leads to a value', () => {
    expect(walk({ a: { b: 1 }, 'a.b': 2 }, ['a', 'b'])).toBe(2);
    expect(walk({ a: { b: 1 }, 'a.b': undefined }, ['a', 'b'])).toBe(1);
    expect(walk({ a: 1 }, ['a', 'b'])).toBeUndefined();
  });
});
