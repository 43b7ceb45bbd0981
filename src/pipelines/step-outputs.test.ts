import { describe, expect, it } from 'vitest';
import { functionOutput, jsonFields } from './step-outputs.js';
import type { FunctionStep } from './types.js';

const step: FunctionStep = { name: 'fit', outputs: ['model'], run: async () => ({}) };

describe('jsonFields', () => {
  it('answers the fields of a JSON object line', () => {
    expect(jsonFields('  {"auc": 0.9, "n": 3} ')).toEqual({ auc: 0.9, n: 3 });
  });

  it('answers nothing for text, arrays, broken JSON and no line', () => {
    expect(jsonFields('done')).toEqual({});
    expect(jsonFields('[1, 2]')).toEqual({});
    expect(jsonFields('{"auc": ')).toEqual({});
    expect(jsonFields(null)).toEqual({});
  });
});

describe('functionOutput', () => {
  it('answers the object as JSON data', () => {
    const when = new Date('2024-01-01T00:00:00Z');
    expect(functionOutput(step, { model: 'm', when })).toEqual({
      model: 'm',
      when: '2024-01-01T00:00:00.000Z',
    });
  });

  it('treats no answer as an empty object when nothing is declared', () => {
    expect(functionOutput({ ...step, outputs: [] }, undefined)).toEqual({});
  });

  it('rejects answers that are not objects, lack declared keys or are not JSON', () => {
    expect(() => functionOutput(step, [1])).toThrow(
      'step fit: run answered an array; answer an object (or nothing)',
    );
    expect(() => functionOutput(step, 'x')).toThrow('step fit: run answered string');
    expect(() => functionOutput(step, {})).toThrow("step fit: run's answer lacks declared outputs model");
    expect(() => functionOutput(step, { model: 1n })).toThrow(
      /step fit: run's answer is not JSON \(.*BigInt.*\)/,
    );
  });
});
