/**
 * Decides whether an ONNX graph is a tabular model and which tensors carry its answer, from the
 * session's input/output metadata and the graph's nodes (for class labels).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { invalidArgument, type MeridianError } from '../../core/errors.js';
import type { ModelTask } from './model.js';
import type { TabularGraph } from './onnx-graph.js';

type Metadata = InferenceSession.ValueMetadata;
type TensorMetadata = InferenceSession.TensorValueMetadata;

/** How to feed and read a tabular ONNX model. */
export interface OnnxPlan {
  inputName: string;
  inputType: 'float32' | 'float64';
  featureCount: number;
  /** Set when the graph fixes the batch size. */
  fixedRows?: number;
  task: ModelTask;
  /** The probability tensor [N, C] (classifiers) or the prediction tensor [N] / [N, 1] (regressors). */
  outputName: string;
  outputDatatype: 'FP32' | 'FP64';
  classLabels?: (number | string)[];
}

const EXPECTED =
  'expected one float tensor input [N, F] and either a label output with a probability tensor [N, C] ' +
  '(or a ZipMap over it) for a classifier, or one float output [N] or [N, 1] for a regressor';
const HINT = 'export the model with a single float input of shape [None, n_features] (skl2onnx, onnxmltools)';

function describe(values: readonly Metadata[]): string {
  if (values.length === 0) return 'none';
  return values
    .map((v) => (v.isTensor ? `${v.name}: ${v.type} [${v.shape.join(', ')}]` : `${v.name}: non-tensor`))
    .join('; ');
}

/** The error for a valid ONNX model that is not a tabular model Meridian can serve. */
export function notTabular(found: string): MeridianError {
  return invalidArgument('file', `ONNX model is not a tabular model: ${EXPECTED}; found ${found}`, HINT);
}

function isFloat(v: Metadata): v is TensorMetadata {
  return v.isTensor && (v.type === 'float32' || v.type === 'float64');
}

function isLabel(v: Metadata): v is TensorMetadata {
  const labelType = v.isTensor && (v.type === 'int64' || v.type === 'int32' || v.type === 'string');
  return labelType && v.shape.length <= 2 && (v.shape.length < 2 || v.shape[1] === 1);
}

function planInput(
  inputs: readonly Metadata[],
): Pick<OnnxPlan, 'inputName' | 'inputType' | 'featureCount' | 'fixedRows'> {
  const input = inputs[0];
  if (inputs.length !== 1 || !input || !isFloat(input) || input.shape.length !== 2) {
    throw notTabular(`inputs ${describe(inputs)}`);
  }
  const [rows, features] = input.shape;
  if (typeof features !== 'number' || features <= 0)
    throw notTabular(`inputs ${describe(inputs)} (F must be fixed)`);
  const fixedRows = typeof rows === 'number' && rows > 0 ? rows : undefined;
  return {
    inputName: input.name,
    inputType: input.type as 'float32' | 'float64',
    featureCount: features,
    ...(fixedRows ? { fixedRows } : {}),
  };
}

function probabilityOutput(floats: TensorMetadata[], graph: TabularGraph): TensorMetadata | undefined {
  const unzipped = new Set(graph.unzipped.values());
  return (
    floats.find((v) => unzipped.has(v.name)) ?? floats.find((v) => v.shape.length === 2 && v.shape[1] !== 1)
  );
}

/** Rank 1, or rank 2 whose second dimension is 1 or symbolic (the first inference checks it is 1). */
function isPrediction(v: TensorMetadata): boolean {
  if (v.shape.length <= 1) return true;
  return v.shape.length === 2 && (v.shape[1] === 1 || typeof v.shape[1] !== 'number');
}

function labelsOf(
  graph: TabularGraph,
  label: string | undefined,
  probabilities: string,
): (number | string)[] | undefined {
  const producer = graph.nodes.find((n) => label !== undefined && n.outputs.includes(label) && n.classLabels);
  const zipMap = graph.nodes.find(
    (n) => n.opType === 'ZipMap' && n.inputs[0] === probabilities && n.classLabels,
  );
  return producer?.classLabels ?? zipMap?.classLabels;
}

/** The plan for a session's graph; INVALID_ARGUMENT saying what was expected when it is not tabular. */
export function planTabular(session: InferenceSession, graph: TabularGraph): OnnxPlan {
  const input = planInput(session.inputMetadata);
  const outputs = session.outputMetadata;
  const floats = outputs.filter(isFloat);
  const label = outputs.find(isLabel);
  const datatype = (v: TensorMetadata) =>
    (v.type === 'float64' ? 'FP64' : 'FP32') as OnnxPlan['outputDatatype'];
  if (label) {
    const probabilities = probabilityOutput(floats, graph);
    if (!probabilities) throw notTabular(`outputs ${describe(outputs)} (a label but no probability tensor)`);
    const classLabels = labelsOf(graph, label.name, probabilities.name);
    return {
      ...input,
      task: 'classification',
      outputName: probabilities.name,
      outputDatatype: datatype(probabilities),
      ...(classLabels ? { classLabels } : {}),
    };
  }
  const only = floats[0];
  if (floats.length !== 1 || !only || !isPrediction(only)) throw notTabular(`outputs ${describe(outputs)}`);
  return { ...input, task: 'regression', outputName: only.name, outputDatatype: datatype(only) };
}
