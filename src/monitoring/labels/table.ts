/**
 * The offline `labels` table (one row per labelled prediction row) and the name of the prediction
 * log it joins with. Monitoring reads the `predictions` table the model server writes, through the
 * offline store only, so its name is repeated here rather than imported from the server.
 */
import type { OfflineSchema, OfflineStore } from '../../stores/offline/port.js';

export const LABELS_TABLE = 'labels';

/** The prediction log's offline table (src/serving/prediction-log-event.ts writes it). */
export const PREDICTIONS_TABLE = 'predictions';

export const LABELS_SCHEMA: OfflineSchema = {
  request_id: 'string',
  row: 'int32',
  model: 'string',
  version: 'int64',
  /** The label as JSON text: a number, string or boolean. */
  label: 'json',
  /** When the outcome was observed. */
  label_time: 'timestamp',
  received_at: 'timestamp',
};

/** True when the offline store has the table (the prediction log is created by its first write). */
export async function tableExists(offline: OfflineStore, table: string): Promise<boolean> {
  const rows = await offline.query<{ n: bigint }>(
    'SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1',
    [table],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}
