import { describe, expect, it } from 'vitest';
import { tensorFromJson } from './tensors.js';
import { encodeRestInferResponse, parseRestInferRequest } from './tensors-binary.js';

/** A request body in Triton's binary form: the JSON header, then each input's bytes. */
function framed(header: unknown, ...chunks: Uint8Array[]): { body: Buffer; length: string } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...chunks]), length: String(json.byteLength) };
}

const rows = new Float32Array([1, 2, 3, 4, 5, 6]);
const rowBytes = new Uint8Array(rows.buffer);

describe('REST inference requests with binary tensor data', () => {
  it('reads JSON inputs, the request id and the requested outputs', () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 'r1',
        inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 2], data: [0.5, 1.5] }],
        outputs: [{ name: 'label' }, { name: 'probabilities', parameters: { binary_data: true } }],
      }),
    );
    const request = parseRestInferRequest(body, undefined);
    expect(request.id).toBe('r1');
    expect(Array.from(request.inputs[0]?.data as Float64Array)).toEqual([0.5, 1.5]);
    expect(request.outputs).toEqual(['label', 'probabilities']);
    expect(request.binaryOutput('probabilities')).toBe(true);
    expect(request.binaryOutput('label')).toBe(false);
  });

  it('reads inputs from the bytes after the header, mixing binary and JSON inputs', () => {
    const { body, length } = framed(
      {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } },
          { name: 'tag', datatype: 'BYTES', shape: [1], data: ['x'] },
        ],
        parameters: { binary_data_output: true },
      },
      rowBytes,
    );
    const request = parseRestInferRequest(body, length);
    expect(Array.from(request.inputs[0]?.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(request.binaryOutput('anything')).toBe(true);
  });

  it("lets an output's own binary_data override the request-wide binary_data_output", () => {
    const body = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 1], data: [0] }],
        outputs: [{ name: 'label', parameters: { binary_data: false } }, { name: 'probabilities' }],
        parameters: { binary_data_output: true },
      }),
    );
    const request = parseRestInferRequest(body, undefined);
    expect([request.binaryOutput('label'), request.binaryOutput('probabilities')]).toEqual([false, true]);
  });

  it('rejects binary data whose length does not match the binary_data_size values', () => {
    const header = {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } }],
    };
    const extra = framed(header, rowBytes, Uint8Array.of(0));
    expect(() => parseRestInferRequest(extra.body, extra.length)).toThrow(
      "25 bytes of binary data follow the JSON header but the inputs' binary_data_size add up to 24",
    );
    const short = framed(header, rowBytes.subarray(0, 20));
    expect(() => parseRestInferRequest(short.body, short.length)).toThrow('run past the 20 bytes');
    const wrong = framed(
      { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 20 } }] },
      rowBytes.subarray(0, 20),
    );
    expect(() => parseRestInferRequest(wrong.body, wrong.length)).toThrow(
      'input: 20 bytes do not match shape [2, 3]',
    );
  });

  it('rejects a header length past the body, binary data without the header, and malformed JSON', () => {
    const { body } = framed({ inputs: [] }, rowBytes);
    expect(() => parseRestInferRequest(body, String(body.byteLength + 1))).toThrow(
      'Inference-Header-Content-Length',
    );
    const noHeader = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 3], parameters: { binary_data_size: 0 } }],
      }),
    );
    expect(() => parseRestInferRequest(noHeader, undefined)).toThrow(
      'without an Inference-Header-Content-Length header',
    );
    expect(() => parseRestInferRequest(Buffer.from('{"inputs": ['), undefined)).toThrow(
      'body: malformed JSON',
    );
    expect(() => parseRestInferRequest(Buffer.from('[1]'), undefined)).toThrow('body: not a JSON object');
  });
});

describe('REST inference responses', () => {
  const label = tensorFromJson('label', 'INT64', [2], [1, 0]);
  const probabilities = tensorFromJson('probabilities', 'FP64', [2, 2], [0.25, 0.75, 0.5, 0.5]);
  const answer = { modelName: 'm', modelVersion: '3', id: 'r1', outputs: [label, probabilities] };

  it('answers JSON data when no binary output is asked for', () => {
    const encoded = encodeRestInferResponse(answer, () => false);
    expect(encoded.headerLength).toBeUndefined();
    expect(JSON.parse(encoded.body.toString())).toEqual({
      model_name: 'm',
      model_version: '3',
      id: 'r1',
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [2], data: [1, 0] },
        { name: 'probabilities', datatype: 'FP64', shape: [2, 2], data: [0.25, 0.75, 0.5, 0.5] },
      ],
    });
  });

  it('puts the outputs asked for as binary after the JSON header, sized by binary_data_size', () => {
    const encoded = encodeRestInferResponse(answer, (name) => name === 'probabilities');
    const length = encoded.headerLength as number;
    const header = JSON.parse(encoded.body.subarray(0, length).toString());
    expect(header.outputs[0].data).toEqual([1, 0]);
    expect(header.outputs[1]).toEqual({
      name: 'probabilities',
      datatype: 'FP64',
      shape: [2, 2],
      parameters: { binary_data_size: 32 },
    });
    const tail = encoded.body.subarray(length);
    expect(Array.from(new Float64Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + 32)))).toEqual([
      0.25, 0.75, 0.5, 0.5,
    ]);
  });
});
