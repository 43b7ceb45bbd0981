import { describe, expect, it } from 'vitest';
import type { ModelSignature } from './runtimes/model.js';
import { tensorFromJson } from './tensors.js';
import { inputBatchFromTensors, inputMetadata, outputMetadata, outputTensors } from './tensors-tabular.js';

const classifier: ModelSignature = {
  task: 'classification',
  featureCount: 3,
  classCount: 2,
  outputDatatype: 'FP64',
};
const regressor: ModelSignature = { task: 'regression', featureCount: 3, outputDatatype: 'FP32' };

describe('tabular tensor conventions', () => {
  it('states input [-1, F] and the outputs of classifiers and regressors', () => {
    expect(inputMetadata(classifier)).toEqual([{ name: 'input', datatype: 'FP64', shape: [-1, 3] }]);
    expect(outputMetadata(classifier)).toEqual([
      { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
      { name: 'label', datatype: 'INT64', shape: [-1] },
    ]);
    expect(outputMetadata(regressor)).toEqual([{ name: 'predictions', datatype: 'FP32', shape: [-1] }]);
  });

  it('passes FP32 and FP64 input through and converts other numeric types to FP64', () => {
    const fp32 = inputBatchFromTensors(classifier, [tensorFromJson('input', 'FP32', [1, 3], [1, 2, 3])]);
    expect(fp32.values).toBeInstanceOf(Float32Array);
    const ints = inputBatchFromTensors(classifier, [
      tensorFromJson('input', 'INT64', [2, 3], [1, 2, 3, 4, 5, -6]),
    ]);
    expect(ints.rows).toBe(2);
    expect(Array.from(ints.values)).toEqual([1, 2, 3, 4, 5, -6]);
    expect(ints.values).toBeInstanceOf(Float64Array);
  });

  it('names an unknown input, a wrong feature count, a non-matrix shape and a non-numeric datatype', () => {
    expect(() => inputBatchFromTensors(classifier, [tensorFromJson('x', 'FP32', [1, 3], [1, 2, 3])])).toThrow(
      'unknown input "x"',
    );
    expect(() =>
      inputBatchFromTensors(classifier, [tensorFromJson('input', 'FP32', [1, 2], [1, 2])]),
    ).toThrow('input: 2 features given, the model takes 3');
    expect(() =>
      inputBatchFromTensors(classifier, [tensorFromJson('input', 'FP32', [3], [1, 2, 3])]),
    ).toThrow('input: shape [3] is not two-dimensional');
    expect(() =>
      inputBatchFromTensors(classifier, [tensorFromJson('input', 'BOOL', [1, 3], [true, false, true])]),
    ).toThrow('input.datatype: BOOL is not accepted by a tabular model');
    expect(() => inputBatchFromTensors(classifier, [])).toThrow('no input "input"');
  });

  it('answers probabilities [rows, C] and INT64 labels, or only the outputs asked for', () => {
    const prediction = { probabilities: Float64Array.of(0.2, 0.8, 0.9, 0.1), label: Int32Array.of(1, 0) };
    const [probabilities, label] = outputTensors(classifier, prediction, 2);
    expect(probabilities?.shape).toEqual([2, 2]);
    expect(probabilities?.datatype).toBe('FP64');
    expect(label?.datatype).toBe('INT64');
    expect(Array.from(label?.data as BigInt64Array)).toEqual([1n, 0n]);
    expect(outputTensors(classifier, prediction, 2, ['label']).map((t) => t.name)).toEqual(['label']);
    expect(() => outputTensors(classifier, prediction, 2, ['score'])).toThrow('unknown output "score"');
  });

  it('answers regressor predictions in the signature datatype', () => {
    const [predictions] = outputTensors(regressor, { predictions: Float64Array.of(1.5, 2.5) }, 2);
    expect(predictions?.datatype).toBe('FP32');
    expect(predictions?.data).toBeInstanceOf(Float32Array);
    expect(predictions?.shape).toEqual([2]);
  });
});
