import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tabularGraph } from './onnx-graph.js';
import { bytesField, concat, readFields, repeatedInts, text, textField, varintField } from './onnx-wire.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/sklearn-onnx');
const modelBytes = (name: string) => readFileSync(join(FIXTURES, name, 'model.onnx'));
const oneRow = (features: number) => ({
  input: new ort.Tensor('float32', new Float32Array(features), [1, features]),
});

describe('tabularGraph', () => {
  it('needs to exist: onnxruntime-node cannot return the sequence<map> a ZipMap answers', async () => {
    const session = await ort.InferenceSession.create(modelBytes('gradient-boosting-binary'));
    await expect(session.run(oneRow(8))).rejects.toThrow(/Non tensor type/);
    await session.release();
  });

  it('replaces a ZipMap output by the probability tensor it zips, keeping the label output', async () => {
    const graph = tabularGraph(modelBytes('gradient-boosting-binary'));
    expect([...graph.unzipped]).toEqual([['output_probability', 'probabilities']]);
    const session = await ort.InferenceSession.create(graph.bytes);
    expect(session.outputNames).toEqual(['output_label', 'probabilities']);
    const out = await session.run(oneRow(8));
    expect(out.probabilities!.dims).toEqual([1, 2]);
    await session.release();
  });

  it('reads class labels of ZipMap and classifier nodes, strings and integers', () => {
    const strings = tabularGraph(modelBytes('logistic-regression-zipmap')).nodes;
    expect(strings.find((n) => n.opType === 'ZipMap')?.classLabels).toEqual(['bronze', 'gold', 'silver']);
    const ints = tabularGraph(modelBytes('random-forest-multiclass')).nodes;
    expect(ints.find((n) => n.opType === 'TreeEnsembleClassifier')?.classLabels).toEqual([0, 1, 2]);
  });

  it('leaves a model without ZipMap byte for byte as it was', () => {
    const bytes = modelBytes('logistic-regression-binary');
    const graph = tabularGraph(bytes);
    expect(graph.unzipped.size).toBe(0);
    expect(Buffer.from(graph.bytes).equals(bytes)).toBe(true);
  });

  it('throws on bytes that are not protobuf or have no graph', () => {
    expect(() => tabularGraph(Uint8Array.from([0x0b, 0x01]))).toThrow(/wire type 3/);
    expect(() => tabularGraph(varintField(1, 8))).toThrow(/no ONNX graph/);
  });
});

describe('onnx wire format', () => {
  it('round-trips multi-byte tags, lengths and varints', () => {
    const long = 'x'.repeat(300);
    const message = concat([
      varintField(20, 300_000),
      textField(1, long),
      bytesField(7, textField(4, 'Add')),
    ]);
    const fields = readFields(message);
    expect(fields.map((f) => f.field)).toEqual([20, 1, 7]);
    expect(fields[0]!.varint).toBe(300_000n);
    expect(text(fields[1]!.bytes)).toBe(long);
    expect(text(readFields(fields[2]!.bytes)[0]!.bytes)).toBe('Add');
    expect(Buffer.from(concat(fields.map((f) => f.raw))).equals(Buffer.from(message))).toBe(true);
  });

  it('reads repeated int64 fields packed and unpacked alike, negatives included', () => {
    const minusOne = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const unpacked = concat([varintField(8, 0), varintField(8, 2), Uint8Array.from([0x40]), minusOne]);
    const packed = bytesField(8, concat([Uint8Array.from([0x00, 0x02]), minusOne]));
    expect(repeatedInts(readFields(unpacked), 8)).toEqual([0n, 2n, -1n]);
    expect(repeatedInts(readFields(packed), 8)).toEqual([0n, 2n, -1n]);
  });

  it('throws on a truncated varint or a field running past the end', () => {
    expect(() => readFields(Uint8Array.from([0x08, 0x80]))).toThrow(/truncated varint/);
    expect(() => readFields(Uint8Array.from([0x0a, 0x05, 0x61]))).toThrow(/past the end/);
  });
});
