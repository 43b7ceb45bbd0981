/**
 * Open Inference Protocol v2 tensors: the twelve datatypes, shapes, and the JSON `data` and raw
 * little-endian byte forms. The REST binary extension (`tensors-binary.ts`), gRPC contents
 * (`tensors-grpc.ts`) and the tabular model conventions (`tensors-tabular.ts`) build on this.
 */
import { endianness } from 'node:os';
import { invalidArgument } from '../core/errors.js';

export const DATATYPES = [
  'BOOL',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];
export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

export type NumericArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A decoded tensor. BOOL is a Uint8Array of 0/1; BYTES is one Uint8Array per element. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: NumericArray | Uint8Array[];
}

interface FixedType {
  size: number;
  make: (length: number) => NumericArray;
  view: (buffer: ArrayBuffer, length: number) => NumericArray;
  /** Inclusive integer range for JSON values; absent for floats and 64-bit integers. */
  range?: [number, number];
}

function fixed<T extends NumericArray>(
  ctor: { new (length: number): T; new (buffer: ArrayBuffer, offset: number, length: number): T },
  size: number,
  range?: [number, number],
): FixedType {
  return {
    size,
    make: (length) => new ctor(length),
    view: (buffer, length) => new ctor(buffer, 0, length),
    ...(range ? { range } : {}),
  };
}

const FIXED: Record<FixedDatatype, FixedType> = {
  BOOL: fixed(Uint8Array, 1, [0, 1]),
  INT8: fixed(Int8Array, 1, [-128, 127]),
  INT16: fixed(Int16Array, 2, [-32768, 32767]),
  INT32: fixed(Int32Array, 4, [-2147483648, 2147483647]),
  INT64: fixed(BigInt64Array, 8),
  UINT8: fixed(Uint8Array, 1, [0, 255]),
  UINT16: fixed(Uint16Array, 2, [0, 65535]),
  UINT32: fixed(Uint32Array, 4, [0, 4294967295]),
  UINT64: fixed(BigUint64Array, 8),
  FP32: fixed(Float32Array, 4),
  FP64: fixed(Float64Array, 8),
};

// Raw tensor bytes are little-endian on the wire; typed arrays use the host's order, so a
// big-endian host would silently scramble every value.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

if (endianness() !== 'LE') throw new Error('OIP v2 tensor codec needs a little-endian host');

/** Checks a datatype name, naming the tensor when it is not one of the twelve. */
export function parseDatatype(field: string, value: unknown): Datatype {
  if (typeof value === 'string' && (DATATYPES as readonly string[]).includes(value)) return value as Datatype;
  throw invalidArgument(
    `${field}.datatype`,
    `unknown datatype ${JSON.stringify(value)}`,
    `use one of ${DATATYPES.join(', ')}`,
  );
}

/** Checks a shape: a list of non-negative integers (gRPC int64s may arrive as strings). */
export function parseShape(field: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw invalidArgument(`${field}.shape`, 'missing or not a list of integers');
  return value.map((dim) => {
    const n = typeof dim === 'string' && /^\d+$/.test(dim) ? Number(dim) : dim;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw invalidArgument(
        `${field}.shape`,
        `${JSON.stringify(dim)} is not a non-negative integer dimension`,
      );
    }
    return n;
  });
}

/** The number of elements a shape holds. */
export function elementCount(shape: number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/** Formats a shape as the errors show it: `[2, 3]`. */
export function formatShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

function shapeMismatch(field: string, shape: number[], count: number): Error {
  return invalidArgument(field, `shape ${formatShape(shape)} does not match ${count} values`);
}

/** Decodes a JSON tensor's `data`, flat or nested row-major, checking it against shape and datatype. */
export function tensorFromJson(name: string, datatype: Datatype, shape: number[], data: unknown): Tensor {
  if (!Array.isArray(data)) throw invalidArgument(`${name}.data`, 'missing or not a list');
  const flat = flattenChecked(name, data, shape);
  if (datatype === 'BYTES') {
    return { name, datatype, shape, data: flat.map((v, i) => bytesElement(name, v, i)) };
  }
  const type = FIXED[datatype];
  const out = type.make(flat.length);
  const convert = jsonConverter(name, datatype, type);
  for (let i = 0; i < flat.length; i++) out[i] = convert(flat[i], i) as never;
  return { name, datatype, shape, data: out };
}

function flattenChecked(name: string, data: unknown[], shape: number[]): unknown[] {
  const nested = data.length > 0 && Array.isArray(data[0]);
  const flat = nested ? (data.flat(Number.POSITIVE_INFINITY) as unknown[]) : data;
  if (flat.length !== elementCount(shape)) throw shapeMismatch(name, shape, flat.length);
  if (nested) checkNesting(name, data, shape, 0);
  return flat;
}

function checkNesting(name: string, data: unknown, shape: number[], depth: number): void {
  if (depth === shape.length) {
    if (Array.isArray(data))
      throw invalidArgument(`${name}.data`, `nested deeper than shape ${formatShape(shape)}`);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw invalidArgument(
      `${name}.data`,
      `nesting does not match shape ${formatShape(shape)} at depth ${depth}`,
      'send the values flat in row-major order or nested exactly as the shape',
    );
  }
  for (const item of data) checkNesting(name, item, shape, depth + 1);
}

function bytesElement(name: string, value: unknown, index: number): Uint8Array {
  if (typeof value !== 'string') {
    throw invalidArgument(
      `${name}.data[${index}]`,
      `${JSON.stringify(value)} is not a string (datatype BYTES)`,
    );
  }
  return utf8Encoder.encode(value);
}

function jsonConverter(name: string, datatype: FixedDatatype, type: FixedType) {
  const bad = (value: unknown, index: number) =>
    invalidArgument(`${name}.data[${index}]`, `${JSON.stringify(value)} is not a valid ${datatype} value`);
  if (datatype === 'BOOL') {
    return (value: unknown, index: number) => {
      if (typeof value !== 'boolean') throw bad(value, index);
      return value ? 1 : 0;
    };
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    // JSON has no NaN; null stands for a missing value, which the tabular models read as NaN.
    return (value: unknown, index: number) => {
      if (value === null) return Number.NaN;
      if (typeof value !== 'number') throw bad(value, index);
      return value;
    };
  }
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const signed = datatype === 'INT64';
    return (value: unknown, index: number) => {
      const big = toBigInt(value);
      const ok = big !== undefined && (signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big)) === big;
      if (!ok) throw bad(value, index);
      return big;
    };
  }
  const [min, max] = type.range as [number, number];
  return (value: unknown, index: number) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      throw bad(value, index);
    return value;
  };
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** Decodes raw little-endian bytes (BYTES: 4-byte length-prefixed elements), checking the length. */
export function tensorFromBytes(
  name: string,
  datatype: Datatype,
  shape: number[],
  bytes: Uint8Array,
): Tensor {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return { name, datatype, shape, data: splitBytesElements(name, bytes, count) };
  const type = FIXED[datatype];
  if (bytes.byteLength !== count * type.size) {
    throw invalidArgument(
      name,
      `${bytes.byteLength} bytes do not match shape ${formatShape(shape)} of ${datatype} (${count * type.size} bytes expected)`,
    );
  }
  // A copy gives the typed array its own aligned buffer; wire bytes may sit at any offset.
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  const data = type.view(buffer, count);
  if (datatype === 'BOOL' && (data as Uint8Array).some((b) => b > 1)) {
    throw invalidArgument(name, 'BOOL bytes must be 0 or 1');
  }
  return { name, datatype, shape, data };
}

function splitBytesElements(name: string, bytes: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 4 > bytes.byteLength)
      throw invalidArgument(name, `BYTES element ${elements.length} has a truncated length prefix`);
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > bytes.byteLength) {
      throw invalidArgument(
        name,
        `BYTES element ${elements.length} claims ${length} bytes past the end of the data`,
      );
    }
    elements.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (elements.length !== count)
    throw invalidArgument(name, `BYTES data holds ${elements.length} elements, shape needs ${count}`);
  return elements;
}

/** Encodes a tensor's elements as raw little-endian bytes (BYTES: 4-byte length-prefixed). */
export function tensorToBytes(tensor: Tensor): Uint8Array {
  if (tensor.datatype !== 'BYTES') {
    const data = tensor.data as NumericArray;
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const elements = tensor.data as Uint8Array[];
  const out = new Uint8Array(elements.reduce((n, e) => n + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of elements) {
    view.setUint32(offset, element.byteLength, true);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}

/** The JSON `data` of a tensor, flat: numbers (64-bit integers as numbers), booleans or strings. */
export function tensorToJsonData(tensor: Tensor): unknown[] {
  if (tensor.datatype === 'BYTES') {
    return (tensor.data as Uint8Array[]).map((e) => utf8Decoder.decode(e));
  }
  if (tensor.datatype === 'BOOL') return Array.from(tensor.data as Uint8Array, (b) => b === 1);
  if (tensor.datatype === 'INT64' || tensor.datatype === 'UINT64') {
    return Array.from(tensor.data as BigInt64Array, (v) => Number(v));
  }
  return Array.from(tensor.data as Float64Array);
}

/** A typed array of a fixed-size datatype, `length` elements long. */
export function makeArray(datatype: FixedDatatype, length: number): NumericArray {
  return FIXED[datatype].make(length);
}
