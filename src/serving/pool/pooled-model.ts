/**
 * A loaded model whose large batches run on its worker pool while small ones run on the serving
 * thread: for a few rows of a tree ensemble the hop to a thread and back costs more than the
 * evaluation itself, whereas a large batch would hold the event loop long enough to delay every
 * other request.
 */
import type { LoadedModel } from '../runtimes/model.js';
import type { ModelPool } from './model-pool.js';

/** The model `inline` with batches of `poolRows` rows or more sent to `pool`. */
export function pooledModel(inline: LoadedModel, pool: ModelPool, poolRows: number): LoadedModel {
  let closing: Promise<void> | undefined;
  return {
    format: inline.format,
    signature: inline.signature,
    predict: (batch) => (batch.rows >= poolRows ? pool.predict(batch) : inline.predict(batch)),
    close() {
      closing ??= Promise.all([pool.close(), inline.close()]).then(() => undefined);
      return closing;
    },
  };
}
