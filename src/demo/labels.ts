/**
 * The demo's ground truth for retraining. Its traffic has no churn outcome, so labels are drawn from
 * the same documented logistic model of the point-in-time features as examples/churn/train.py's
 * `synthetic_churn_label` (log-odds -2; +3 with no activity yet; +4 after a refund; +2 after a view;
 * minus clipped_amount / 50; minus 2 after a large purchase), seeded. The file is the label source
 * the train pipeline reads: `user_id`, `event_timestamp`, `churned`.
 */
import { writeFileSync } from 'node:fs';
import { MeridianClient } from '../sdk/client.js';
import type { EntityRow } from './probes.js';
import { seededRandom } from './random.js';

export const LABEL_COLUMN = 'churned';
const AMOUNT = 'user_activity:amount';
const CLIPPED = 'user_spend:clipped_amount';
const LARGE = 'user_spend:is_large_purchase';

/** The probability that a user with these point-in-time features churns. */
export function churnProbability(row: Record<string, unknown>): number {
  const amount = row[AMOUNT];
  const clipped = row[CLIPPED];
  let logit = -2;
  if (amount === null || amount === undefined) logit += 3;
  else if (Number(amount) < 0) logit += 4;
  else if (Number(amount) === 0) logit += 2;
  if (clipped !== null && clipped !== undefined) logit -= Number(clipped) / 50;
  if (row[LARGE] === true || row[LARGE] === 1) logit -= 2;
  return 1 / (1 + Math.exp(-logit));
}

/** Draws every entity row's label from its point-in-time features and writes the label file. */
export async function writeChurnLabels(
  url: string,
  featureService: string,
  entities: readonly EntityRow[],
  file: string,
  seed: number,
): Promise<{ rows: number; positiveRate: number }> {
  const client = new MeridianClient({ url, timeoutMs: 120_000 });
  const rows = (await client.getHistoricalFeatures(entities, { featureService })) as Record<
    string,
    unknown
  >[];
  const random = seededRandom(seed + 7_000_003);
  let positives = 0;
  const lines = rows.map((row, i) => {
    const churned = random() < churnProbability(row) ? 1 : 0;
    positives += churned;
    const entity = entities[i]!;
    return `${entity.user_id},${entity.event_timestamp},${churned}`;
  });
  writeFileSync(file, `user_id,event_timestamp,${LABEL_COLUMN}\n${lines.join('\n')}\n`);
  return { rows: rows.length, positiveRate: rows.length === 0 ? 0 : positives / rows.length };
}
