/**
 * Reads the parts of an ONNX ModelProto the tabular signature needs (nodes, class labels, graph
 * outputs) and removes ZipMap outputs. onnxruntime-node cannot return non-tensor values ("Non tensor
 * type is temporarily not supported"), and skl2onnx ends every classifier with a ZipMap turning the
 * probability tensor into a sequence of maps; exposing ZipMap's input tensor instead keeps the same
 * numbers. The rewrite works on the wire format and copies every other field byte for byte.
 */
import {
  bytesField,
  concat,
  readFields,
  repeatedInts,
  text,
  textField,
  varintField,
  type WireField,
} from './onnx-wire.js';

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_INTS = 8;
const ATTR_STRINGS = 9;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_ELEM_TYPE = 1;
const ELEM_FLOAT = 1;

/** A graph node as far as the signature cares. */
export interface OnnxNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** `classlabels_*` attribute of classifiers and ZipMap, when present. */
  classLabels?: (number | string)[];
}

/** The model after ZipMap outputs were replaced by their probability tensors. */
export interface TabularGraph {
  bytes: Uint8Array;
  /** Every node of the original graph, removed ZipMaps included (their class labels still count). */
  nodes: OnnxNode[];
  /** Graph output name → the probability tensor that replaced it, for each removed ZipMap. */
  unzipped: Map<string, string>;
}

function strings(fields: WireField[], field: number): string[] {
  return fields.filter((f) => f.field === field).map((f) => text(f.bytes));
}

function classLabels(attributes: WireField[]): (number | string)[] | undefined {
  for (const attr of attributes) {
    const fields = readFields(attr.bytes);
    const name = strings(fields, ATTR_NAME)[0] ?? '';
    if (!name.startsWith('classlabels')) continue;
    if (name.endsWith('strings')) return strings(fields, ATTR_STRINGS);
    return repeatedInts(fields, ATTR_INTS).map(Number);
  }
  return undefined;
}

function readNode(bytes: Uint8Array): OnnxNode {
  const fields = readFields(bytes);
  const labels = classLabels(fields.filter((f) => f.field === NODE_ATTRIBUTE));
  return {
    opType: strings(fields, NODE_OP_TYPE)[0] ?? '',
    domain: strings(fields, NODE_DOMAIN)[0] ?? '',
    inputs: strings(fields, NODE_INPUT),
    outputs: strings(fields, NODE_OUTPUT),
    ...(labels ? { classLabels: labels } : {}),
  };
}

/** A ValueInfoProto declaring a float tensor of unspecified shape. */
function floatTensorValueInfo(name: string): Uint8Array {
  const tensorType = varintField(TENSOR_ELEM_TYPE, ELEM_FLOAT);
  const typeProto = bytesField(TYPE_TENSOR, tensorType);
  return concat([textField(VALUE_INFO_NAME, name), bytesField(VALUE_INFO_TYPE, typeProto)]);
}

/** Whether a node is a ZipMap whose only consumer is the graph output of the same name. */
function removableZipMap(node: OnnxNode, nodes: OnnxNode[], outputs: Set<string>): boolean {
  const out = node.outputs[0];
  if (node.opType !== 'ZipMap' || node.domain !== 'ai.onnx.ml' || out === undefined) return false;
  if (!outputs.has(out) || node.inputs[0] === undefined) return false;
  return !nodes.some((other) => other.inputs.includes(out));
}

function rewriteGraph(graph: Uint8Array): TabularGraph {
  const fields = readFields(graph);
  const nodeFields = fields.filter((f) => f.field === GRAPH_NODE);
  const nodes = nodeFields.map((f) => readNode(f.bytes));
  const outputNames = new Set(
    fields
      .filter((f) => f.field === GRAPH_OUTPUT)
      .flatMap((f) => strings(readFields(f.bytes), VALUE_INFO_NAME)),
  );
  const dropped = new Set(nodes.filter((n) => removableZipMap(n, nodes, outputNames)));
  const unzipped = new Map([...dropped].map((n) => [n.outputs[0]!, n.inputs[0]!]));
  if (unzipped.size === 0) return { bytes: graph, nodes, unzipped };
  const parts: Uint8Array[] = [];
  let nodeIndex = 0;
  for (const f of fields) {
    if (f.field === GRAPH_NODE) {
      if (!dropped.has(nodes[nodeIndex++]!)) parts.push(f.raw);
      continue;
    }
    const name = f.field === GRAPH_OUTPUT ? strings(readFields(f.bytes), VALUE_INFO_NAME)[0] : undefined;
    const replacement = name === undefined ? undefined : unzipped.get(name);
    if (replacement === undefined) {
      parts.push(f.raw);
    } else if (!outputNames.has(replacement)) {
      parts.push(bytesField(GRAPH_OUTPUT, floatTensorValueInfo(replacement)));
    }
  }
  return { bytes: concat(parts), nodes, unzipped };
}

/** Parses a ModelProto and replaces its ZipMap outputs by their probability tensors; throws if it is not protobuf. */
export function tabularGraph(model: Uint8Array): TabularGraph {
  const fields = readFields(model);
  const graphField = fields.find((f) => f.field === MODEL_GRAPH);
  if (!graphField) throw new Error('the file has no ONNX graph (ModelProto field 7)');
  const graph = rewriteGraph(graphField.bytes);
  if (graph.unzipped.size === 0) return { bytes: model, nodes: graph.nodes, unzipped: graph.unzipped };
  const parts = fields.map((f) => (f === graphField ? bytesField(MODEL_GRAPH, graph.bytes) : f.raw));
  return { bytes: concat(parts), nodes: graph.nodes, unzipped: graph.unzipped };
}
