/**
 * Just enough of the protobuf wire format to read and splice an ONNX model's graph. Fields are kept
 * as their original bytes, so whatever this code does not understand is written back untouched.
 */

export const WIRE_VARINT = 0;
export const WIRE_BYTES = 2;

/** One field of a protobuf message, with its raw encoding (tag included) for verbatim copying. */
export interface WireField {
  field: number;
  wireType: number;
  /** The whole field: tag and value. */
  raw: Uint8Array;
  /** Length-delimited payload (WIRE_BYTES) or empty. */
  bytes: Uint8Array;
  /** Varint value (WIRE_VARINT) or 0n. */
  varint: bigint;
}

const EMPTY: Uint8Array = new Uint8Array(0);

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let value = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    const byte = buf[pos];
    if (byte === undefined) throw new Error('truncated varint');
    pos++;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, pos];
  }
  throw new Error('varint longer than 10 bytes');
}

/** Splits a message into its fields; throws on anything that is not well-formed protobuf. */
export function readFields(buf: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) throw new Error(`field number 0 at byte ${start}`);
    let bytes: Uint8Array = EMPTY;
    let varint = 0n;
    pos = afterTag;
    if (wireType === WIRE_VARINT) [varint, pos] = readVarint(buf, pos);
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === WIRE_BYTES) {
      const [length, afterLength] = readVarint(buf, pos);
      pos = afterLength + Number(length);
      bytes = buf.subarray(afterLength, pos);
    } else throw new Error(`unsupported wire type ${wireType} at byte ${start}`);
    if (pos > buf.length) throw new Error(`field ${field} runs past the end of the message`);
    fields.push({ field, wireType, raw: buf.subarray(start, pos), bytes, varint });
  }
  return fields;
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

/** Encodes a length-delimited field. */
export function bytesField(field: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(field * 8 + WIRE_BYTES), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** Encodes a varint field. */
export function varintField(field: number, value: number): Uint8Array {
  return Uint8Array.from([...encodeVarint(field * 8 + WIRE_VARINT), ...encodeVarint(value)]);
}

/** Concatenates encoded fields into one message. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Decodes a string field's payload. */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Encodes a string field. */
export function textField(field: number, value: string): Uint8Array {
  return bytesField(field, encoder.encode(value));
}

/** The values of a repeated int64 field, packed or not. */
export function repeatedInts(fields: WireField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wireType === WIRE_VARINT) out.push(f.varint);
    else if (f.wireType === WIRE_BYTES) {
      for (let pos = 0; pos < f.bytes.length; ) {
        const [value, next] = readVarint(f.bytes, pos);
        out.push(BigInt.asIntN(64, value));
        pos = next;
      }
    }
  }
  return out.map((v) => BigInt.asIntN(64, v));
}
