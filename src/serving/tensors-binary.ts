/**
 * OIP v2 inference requests and responses over REST, with Triton's binary tensor data extension:
 * a request body may be a JSON header of `Inference-Header-Content-Length` bytes followed by each
 * input's raw bytes (`parameters.binary_data_size`), and a response carries outputs as raw bytes
 * after its JSON header when the request asks (`binary_data` per output, `binary_data_output`).
 */
import { invalidArgument } from '../core/errors.js';
import {
  parseDatatype,
  parseShape,
  type Tensor,
  tensorFromBytes,
  tensorFromJson,
  tensorToBytes,
  tensorToJsonData,
} from './tensors.js';

export const HEADER_LENGTH = 'inference-header-content-length';

/** A decoded REST inference request. */
export interface RestInferRequest {
  id?: string;
  inputs: Tensor[];
  /** Requested output names, in order; empty for all. */
  outputs: string[];
  /** Whether an output is to be answered as binary data. */
  binaryOutput: (name: string) => boolean;
}

type Json = Record<string, unknown>;

/** Parses a request body (JSON, or JSON header + binary tensors when `headerLength` is given). */
export function parseRestInferRequest(body: Uint8Array, headerLength: string | undefined): RestInferRequest {
  const jsonLength = parseHeaderLength(headerLength, body.byteLength);
  const header = parseJsonObject(body.subarray(0, jsonLength));
  const binary = body.subarray(jsonLength);
  const inputs = decodeInputs(header.inputs, binary, headerLength !== undefined);
  const parameters = optionalObject(header.parameters, 'parameters');
  const outputs = requestedOutputs(header.outputs);
  const allBinary = parameters.binary_data_output === true;
  // An output's own binary_data wins over the request-wide binary_data_output, as in Triton.
  const perOutput = new Map(
    outputs.flatMap((o) => (o.binary === undefined ? [] : [[o.name, o.binary] as const])),
  );
  return {
    ...(typeof header.id === 'string' ? { id: header.id } : {}),
    inputs,
    outputs: outputs.map((o) => o.name),
    binaryOutput: (name) => perOutput.get(name) ?? allBinary,
  };
}

function parseHeaderLength(value: string | undefined, bodyLength: number): number {
  if (value === undefined) return bodyLength;
  const length = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(length) || length <= 0 || length > bodyLength) {
    throw invalidArgument(
      'Inference-Header-Content-Length',
      `${JSON.stringify(value)} is not a byte length within the ${bodyLength}-byte body`,
      'set it to the length of the JSON header that starts the body',
    );
  }
  return length;
}

function parseJsonObject(bytes: Uint8Array): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw invalidArgument(
      'body',
      `malformed JSON (${(err as Error).message})`,
      'send an OIP v2 inference request',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('body', 'not a JSON object', 'send {"inputs": [...]}');
  }
  return parsed as Json;
}

function optionalObject(value: unknown, field: string): Json {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(field, 'not an object');
  return value as Json;
}

function decodeInputs(value: unknown, binary: Uint8Array, framed: boolean): Tensor[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidArgument('inputs', 'missing or empty', 'send at least one input tensor');
  }
  let offset = 0;
  const tensors = value.map((raw, index) => {
    const input = optionalObject(raw, `inputs[${index}]`);
    if (typeof input.name !== 'string' || input.name === '')
      throw invalidArgument(`inputs[${index}].name`, 'missing');
    const name = input.name;
    const datatype = parseDatatype(name, input.datatype);
    const shape = parseShape(name, input.shape);
    const size = optionalObject(input.parameters, `${name}.parameters`).binary_data_size;
    if (size === undefined) return tensorFromJson(name, datatype, shape, input.data);
    if (!framed) {
      throw invalidArgument(
        `${name}.parameters.binary_data_size`,
        'given without an Inference-Header-Content-Length header',
        'send the header with the length of the JSON part of the body',
      );
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalidArgument(
        `${name}.parameters.binary_data_size`,
        `${JSON.stringify(size)} is not a byte count`,
      );
    }
    if (offset + size > binary.byteLength) {
      throw invalidArgument(
        `${name}.parameters.binary_data_size`,
        `${size} bytes from offset ${offset} run past the ${binary.byteLength} bytes of binary data after the header`,
      );
    }
    const tensor = tensorFromBytes(name, datatype, shape, binary.subarray(offset, offset + size));
    offset += size;
    return tensor;
  });
  if (offset !== binary.byteLength) {
    throw invalidArgument(
      'body',
      `${binary.byteLength} bytes of binary data follow the JSON header but the inputs' binary_data_size add up to ${offset}`,
      'check Inference-Header-Content-Length and each binary_data_size',
    );
  }
  return tensors;
}

function requestedOutputs(value: unknown): { name: string; binary?: boolean }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidArgument('outputs', 'not a list');
  return value.map((raw, index) => {
    const output = optionalObject(raw, `outputs[${index}]`);
    if (typeof output.name !== 'string') throw invalidArgument(`outputs[${index}].name`, 'missing');
    const parameters = optionalObject(output.parameters, `outputs[${index}].parameters`);
    const binary = parameters.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean') {
      throw invalidArgument(`outputs[${index}].parameters.binary_data`, 'not a boolean');
    }
    return { name: output.name, ...(binary === undefined ? {} : { binary }) };
  });
}

/** What the inference answered, before encoding. */
export interface InferAnswer {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs: Tensor[];
}

/** An encoded response body; `headerLength` is set when binary outputs follow the JSON. */
export interface EncodedResponse {
  body: Buffer;
  headerLength?: number;
}

/** Encodes an answer as JSON, with the outputs asked for as binary after the JSON header. */
export function encodeRestInferResponse(
  answer: InferAnswer,
  binaryOutput: (name: string) => boolean,
): EncodedResponse {
  const chunks: Uint8Array[] = [];
  const outputs = answer.outputs.map((tensor) => {
    const base = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape };
    if (!binaryOutput(tensor.name)) return { ...base, data: tensorToJsonData(tensor) };
    const bytes = tensorToBytes(tensor);
    chunks.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.byteLength } };
  });
  const json = Buffer.from(
    JSON.stringify({
      model_name: answer.modelName,
      model_version: answer.modelVersion,
      ...(answer.id !== undefined ? { id: answer.id } : {}),
      outputs,
    }),
  );
  if (chunks.length === 0) return { body: json };
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.byteLength };
}
