/**
 * OIP v2 tensors over gRPC: input tensors from `InferTensorContents` (the repeated field of each
 * datatype) or from `raw_input_contents`, and outputs as `raw_output_contents`. Messages are as
 * @grpc/proto-loader gives them with `keepCase` and `longs: String`.
 */
import { invalidArgument } from '../core/errors.js';
import {
  type Datatype,
  elementCount,
  formatShape,
  makeArray,
  parseDatatype,
  parseShape,
  type Tensor,
  tensorFromBytes,
  tensorToBytes,
} from './tensors.js';

/** `InferTensorContents` as the loader decodes it. */
export interface WireContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

/** `ModelInferRequest.InferInputTensor` as the loader decodes it. */
export interface WireInput {
  name?: string;
  datatype?: string;
  shape?: (string | number)[];
  contents?: WireContents | null;
}

type ContentsField = keyof WireContents;

const FIELD: Record<Datatype, ContentsField> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** Decodes the inputs of a ModelInfer request, from raw contents when given, else typed contents. */
export function tensorsFromGrpc(inputs: WireInput[], raw: Uint8Array[]): Tensor[] {
  if (inputs.length === 0)
    throw invalidArgument('inputs', 'missing or empty', 'send at least one input tensor');
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw invalidArgument(
      'raw_input_contents',
      `${raw.length} entries for ${inputs.length} inputs`,
      'send one entry per input, in the order of inputs',
    );
  }
  return inputs.map((input, index) => {
    const name = input.name || `inputs[${index}]`;
    const datatype = parseDatatype(name, input.datatype);
    const shape = parseShape(name, input.shape);
    const bytes = raw[index];
    if (bytes) {
      if (hasContents(input.contents)) {
        throw invalidArgument(
          `${name}.contents`,
          'given together with raw_input_contents',
          'send one or the other',
        );
      }
      return tensorFromBytes(name, datatype, shape, bytes);
    }
    return tensorFromContents(name, datatype, shape, input.contents ?? {});
  });
}

function hasContents(contents: WireContents | null | undefined): boolean {
  return !!contents && Object.values(contents).some((v) => Array.isArray(v) && v.length > 0);
}

function tensorFromContents(
  name: string,
  datatype: Datatype,
  shape: number[],
  contents: WireContents,
): Tensor {
  const field = FIELD[datatype];
  const values = (contents[field] ?? []) as unknown[];
  const count = elementCount(shape);
  if (values.length !== count) {
    throw invalidArgument(
      name,
      `shape ${formatShape(shape)} does not match ${values.length} values in contents.${field}`,
    );
  }
  if (datatype === 'BYTES') return { name, datatype, shape, data: values as Uint8Array[] };
  const data = makeArray(datatype, count);
  const big = datatype === 'INT64' || datatype === 'UINT64';
  for (let i = 0; i < count; i++) {
    const value = values[i];
    data[i] = (big ? BigInt(value as string) : datatype === 'BOOL' ? (value ? 1 : 0) : value) as never;
  }
  if (!big && datatype !== 'BOOL' && datatype !== 'FP32' && datatype !== 'FP64') {
    checkRange(name, datatype, values as number[], data);
  }
  return { name, datatype, shape, data };
}

function checkRange(
  name: string,
  datatype: Datatype,
  values: number[],
  stored: ArrayLike<number | bigint>,
): void {
  for (let i = 0; i < values.length; i++) {
    if (stored[i] !== values[i]) {
      throw invalidArgument(`${name}.contents[${i}]`, `${values[i]} is out of range for ${datatype}`);
    }
  }
}

/** An output tensor of a ModelInfer response, its elements going to `raw_output_contents`. */
export interface WireOutput {
  name: string;
  datatype: string;
  shape: number[];
}

/** Splits output tensors into their descriptions and their raw bytes, in the same order. */
export function tensorsToGrpc(outputs: Tensor[]): { outputs: WireOutput[]; raw_output_contents: Buffer[] } {
  return {
    outputs: outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    raw_output_contents: outputs.map((t) => {
      const bytes = tensorToBytes(t);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }),
  };
}
