import { describe, expect, it } from 'vitest';
import {
  DATATYPES,
  type Datatype,
  parseDatatype,
  parseShape,
  tensorFromBytes,
  tensorFromJson,
  tensorToBytes,
  tensorToJsonData,
} from './tensors.js';
import { tensorsFromGrpc, tensorsToGrpc } from './tensors-grpc.js';

const SAMPLES: Record<Datatype, unknown[]> = {
  BOOL: [true, false, true, true],
  INT8: [-128, 0, 5, 127],
  INT16: [-32768, 1, 2, 32767],
  INT32: [-2147483648, 7, 8, 2147483647],
  INT64: [-9007199254740991, 0, 3, 9007199254740991],
  UINT8: [0, 1, 254, 255],
  UINT16: [0, 1, 2, 65535],
  UINT32: [0, 1, 2, 4294967295],
  UINT64: [0, 1, 2, 9007199254740991],
  FP32: [0.5, -1.25, 3, 2 ** 100],
  FP64: [0.1, -2.2, 1e-300, 1.7976931348623157e308],
  BYTES: ['a', '', 'héllo', 'x'],
};

describe('OIP v2 tensor codec', () => {
  it.each(DATATYPES)('round-trips %s through JSON data and raw little-endian bytes', (datatype) => {
    const json = tensorFromJson('t', datatype, [2, 2], SAMPLES[datatype]);
    const raw = tensorToBytes(json);
    const back = tensorFromBytes('t', datatype, [2, 2], raw);
    expect(tensorToJsonData(back)).toEqual(SAMPLES[datatype]);
  });

  it('writes FP64 raw bytes little-endian and BYTES with 4-byte length prefixes', () => {
    const fp = tensorToBytes(tensorFromJson('t', 'FP64', [1], [1]));
    expect(Buffer.from(fp).toString('hex')).toBe('000000000000f03f');
    const bytes = tensorToBytes(tensorFromJson('t', 'BYTES', [2], ['ab', 'c']));
    expect(Buffer.from(bytes).toString('hex')).toBe('02000000616201000000' + '63');
  });

  it('accepts nested data that follows the shape and reads null as a missing FP value', () => {
    const tensor = tensorFromJson(
      'input',
      'FP64',
      [2, 3],
      [
        [1, null, 3],
        [4, 5, 6],
      ],
    );
    expect(Array.from(tensor.data as Float64Array)).toEqual([1, Number.NaN, 3, 4, 5, 6]);
  });

  it('names the tensor when the shape does not match the number of values', () => {
    expect(() => tensorFromJson('input', 'FP32', [2, 3], [1, 2, 3, 4, 5, 6, 7])).toThrow(
      'input: shape [2, 3] does not match 7 values',
    );
  });

  it('rejects nesting that holds the right count in the wrong structure', () => {
    expect(() =>
      tensorFromJson(
        'input',
        'FP32',
        [2, 3],
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      ),
    ).toThrow(/nesting does not match shape \[2, 3\]/);
  });

  it('rejects values outside the datatype, naming the element', () => {
    expect(() => tensorFromJson('x', 'INT8', [1], [128])).toThrow('x.data[0]: 128 is not a valid INT8 value');
    expect(() => tensorFromJson('x', 'UINT32', [2], [1, -1])).toThrow('x.data[1]');
    expect(() => tensorFromJson('x', 'INT32', [1], [1.5])).toThrow('not a valid INT32');
    expect(() => tensorFromJson('x', 'FP64', [1], ['1'])).toThrow('not a valid FP64');
    expect(() => tensorFromJson('x', 'BOOL', [1], [1])).toThrow('not a valid BOOL');
    expect(() => tensorFromJson('x', 'BYTES', [1], [1])).toThrow('is not a string');
  });

  it('rejects raw bytes whose length does not fit the shape and datatype', () => {
    expect(() => tensorFromBytes('input', 'FP32', [2, 3], new Uint8Array(20))).toThrow(
      'input: 20 bytes do not match shape [2, 3] of FP32 (24 bytes expected)',
    );
    expect(() => tensorFromBytes('s', 'BYTES', [1], Uint8Array.from([9, 0, 0, 0, 1]))).toThrow(
      'past the end',
    );
    expect(() => tensorFromBytes('s', 'BYTES', [2], Uint8Array.from([0, 0, 0, 0]))).toThrow(
      'holds 1 elements, shape needs 2',
    );
  });

  it('rejects unknown datatypes and negative or fractional dimensions', () => {
    expect(() => parseDatatype('input', 'FP16')).toThrow('input.datatype: unknown datatype "FP16"');
    expect(() => parseShape('input', [2, -1])).toThrow('input.shape');
    expect(() => parseShape('input', [1.5])).toThrow('input.shape');
    expect(parseShape('input', ['2', 3])).toEqual([2, 3]);
  });
});

describe('OIP v2 tensors over gRPC', () => {
  it('reads typed contents in the field of each datatype', () => {
    const [ints, longs, floats] = tensorsFromGrpc(
      [
        { name: 'a', datatype: 'INT16', shape: ['2'], contents: { int_contents: [-3, 4] } },
        { name: 'b', datatype: 'INT64', shape: ['1'], contents: { int64_contents: ['-9007199254740993'] } },
        { name: 'c', datatype: 'FP64', shape: ['1', '2'], contents: { fp64_contents: [0.25, 0.5] } },
      ],
      [],
    );
    expect(Array.from(ints?.data as Int16Array)).toEqual([-3, 4]);
    expect(Array.from(longs?.data as BigInt64Array)).toEqual([-9007199254740993n]);
    expect(floats?.shape).toEqual([1, 2]);
  });

  it('reads raw_input_contents and refuses them alongside typed contents or in the wrong number', () => {
    const raw = Buffer.from(new Float32Array([1, 2]).buffer);
    const [t] = tensorsFromGrpc([{ name: 'input', datatype: 'FP32', shape: [1, 2] }], [raw]);
    expect(Array.from(t?.data as Float32Array)).toEqual([1, 2]);
    const both = { name: 'input', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } };
    expect(() => tensorsFromGrpc([both], [raw])).toThrow('given together with raw_input_contents');
    expect(() => tensorsFromGrpc([both, both], [raw])).toThrow('1 entries for 2 inputs');
  });

  it('refuses typed contents whose count or range does not fit', () => {
    const input = { name: 'x', datatype: 'UINT8', shape: [2], contents: { uint_contents: [1, 300] } };
    expect(() => tensorsFromGrpc([input], [])).toThrow('x.contents[1]: 300 is out of range for UINT8');
    const short = { name: 'x', datatype: 'FP32', shape: [3], contents: { fp32_contents: [1] } };
    expect(() => tensorsFromGrpc([short], [])).toThrow(
      'x: shape [3] does not match 1 values in contents.fp32_contents',
    );
  });

  it('answers outputs as raw_output_contents in output order', () => {
    const out = tensorsToGrpc([tensorFromJson('label', 'INT64', [2], [1, 0])]);
    expect(out.outputs).toEqual([{ name: 'label', datatype: 'INT64', shape: [2] }]);
    expect(out.raw_output_contents[0]?.toString('hex')).toBe('01000000000000000000000000000000');
  });
});
