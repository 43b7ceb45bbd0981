/**
 * ONNX models (plain ONNX and `ai.onnx.ml` operators as skl2onnx and onnxmltools emit them) through
 * onnxruntime-node. Inputs are converted to the graph's input type (float32 for skl2onnx models), and
 * onnxruntime computes tree ensembles and linear models in float32, so answers match scikit-learn to
 * about 1e-5 relative, not 1e-6.
 */
import ort from 'onnxruntime-node';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { InputBatch, LoadedModel, ModelLoader, ModelSignature, Prediction } from './model.js';
import { type TabularGraph, tabularGraph } from './onnx-graph.js';
import { type OnnxPlan, planTabular } from './onnx-signature.js';

type FloatArray = Float32Array | Float64Array;

// Tabular batches are small and serving already runs requests in parallel; one thread per session
// keeps a 2-core machine from being oversubscribed.
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};

function notOnnx(reason: string): MeridianError {
  return invalidArgument(
    'file',
    `not a loadable ONNX model (${reason})`,
    'push the .onnx file an exporter wrote (skl2onnx, onnxmltools, torch.onnx.export), or choose the right --format',
  );
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function openSession(
  bytes: Uint8Array,
): Promise<{ session: ort.InferenceSession; graph: TabularGraph }> {
  if (bytes.length === 0) throw notOnnx('the file is empty');
  let graph: TabularGraph;
  try {
    graph = tabularGraph(bytes);
  } catch (err) {
    throw notOnnx(`not an ONNX protobuf: ${reasonOf(err)}`);
  }
  try {
    return { session: await ort.InferenceSession.create(graph.bytes, SESSION_OPTIONS), graph };
  } catch (err) {
    throw notOnnx(`onnxruntime rejected it: ${reasonOf(err)}`);
  }
}

function toInput(values: FloatArray, type: OnnxPlan['inputType']): FloatArray {
  if (type === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values);
  return values instanceof Float64Array ? values : Float64Array.from(values);
}

/** Index of the largest value in each row; the first wins a tie. */
function argmax(values: FloatArray, rows: number, columns: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < columns; c++) {
      if (values[r * columns + c]! > values[r * columns + best]!) best = c;
    }
    labels[r] = best;
  }
  return labels;
}

function checkBatch(batch: InputBatch, plan: OnnxPlan): void {
  const { rows, values } = batch;
  if (!Number.isInteger(rows) || rows < 0)
    throw invalidArgument('input', `rows must be a whole number ≥ 0, got ${rows}`);
  if (plan.fixedRows !== undefined && rows !== plan.fixedRows) {
    throw invalidArgument('input', `this model takes exactly ${plan.fixedRows} rows per batch, got ${rows}`);
  }
  if (values.length !== rows * plan.featureCount) {
    throw invalidArgument(
      'input',
      `expected ${rows} rows x ${plan.featureCount} features = ${rows * plan.featureCount} values, got ${values.length}`,
      `send shape [rows, ${plan.featureCount}]`,
    );
  }
}

class OnnxModel implements LoadedModel {
  readonly format = 'onnx' as const;
  signature!: ModelSignature;
  private closed = false;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly plan: OnnxPlan,
  ) {}

  /** Runs the graph once on a row of zeros to learn C and to prove the model executes. */
  async probe(): Promise<void> {
    const rows = this.plan.fixedRows ?? 1;
    const values = new Float64Array(rows * this.plan.featureCount);
    let output: FloatArray;
    try {
      output = await this.run({ rows, values });
    } catch (err) {
      throw notOnnx(`its first inference failed: ${reasonOf(err)}`);
    }
    const perRow = output.length / rows;
    const { task, featureCount, outputDatatype, classLabels } = this.plan;
    if (task === 'regression' && perRow !== 1) {
      throw invalidArgument('file', `the regression output answers ${perRow} values per row, expected 1`);
    }
    if (task === 'classification' && perRow < 2) {
      throw invalidArgument(
        'file',
        `the probability output answers ${perRow} values per row, expected one per class`,
      );
    }
    const labels = classLabels?.length === perRow ? { classLabels } : {};
    const classes = task === 'classification' ? { classCount: perRow, ...labels } : {};
    this.signature = { task, featureCount, outputDatatype, ...classes };
  }

  async predict(batch: InputBatch): Promise<Prediction> {
    if (this.closed) {
      throw new MeridianError(
        'UNAVAILABLE',
        'the ONNX model was closed; resolve the model again to get a loaded one',
      );
    }
    checkBatch(batch, this.plan);
    const output = batch.rows === 0 ? this.empty() : await this.run(batch);
    if (this.signature.task === 'regression') return { predictions: output };
    const classes = this.signature.classCount!;
    return { probabilities: output, label: argmax(output, batch.rows, classes) };
  }

  private empty(): FloatArray {
    return this.signature.outputDatatype === 'FP64' ? new Float64Array(0) : new Float32Array(0);
  }

  private async run(batch: InputBatch): Promise<FloatArray> {
    const { inputName, inputType, featureCount, outputName } = this.plan;
    const tensor = new ort.Tensor(inputType, toInput(batch.values, inputType), [batch.rows, featureCount]);
    const pending = this.session.run({ [inputName]: tensor }, [outputName]);
    this.running.add(pending);
    try {
      const result = await pending;
      return result[outputName]!.data as FloatArray;
    } finally {
      this.running.delete(pending);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Releasing a session under a running inference would free memory the native run still uses.
    await Promise.allSettled([...this.running]);
    await this.session.release();
  }
}

/** Loads an ONNX model file's bytes into an onnxruntime session with a tabular signature. */
export const loadOnnxModel: ModelLoader = async (bytes) => {
  const { session, graph } = await openSession(bytes);
  try {
    const model = new OnnxModel(session, planTabular(session, graph));
    await model.probe();
    return model;
  } catch (err) {
    await session.release();
    throw err;
  }
};
