/**
 * The churn example project: one user entity, one stream of user activity, a projection view, a
 * per-event SQL view and a per-event TypeScript view, and the feature service a churn model consumes. Apply it with
 * `meridian apply examples/churn` while `meridian up` runs.
 */
import {
  defineEntity,
  defineFeatureService,
  defineFeatureView,
  defineSource,
  featureRef,
} from '../../src/features/definitions.js';

export const user = defineEntity({
  name: 'user',
  joinKeys: ['user_id'],
  description: 'A customer account',
});

export const activity = defineSource({
  name: 'activity',
  kind: 'stream',
  schema: {
    user_id: 'int64',
    action: 'string',
    amount: 'float64',
    country: 'string',
    ts: 'timestamp',
  },
  timestampField: 'ts',
  description: 'User actions as they happen: views, purchases, refunds',
});

/** The latest action of each user, as it came in; older than 30 days counts as missing. */
export const userActivity = defineFeatureView({
  name: 'user_activity',
  entities: [user],
  source: activity,
  ttl: '30d',
  features: { amount: 'float64', country: 'string', action: 'string' },
  description: 'Last action, amount and country per user',
});

/** Per-event spend signals: the amount clipped to [0, 1000] and whether the event was a large purchase. */
export const userSpend = defineFeatureView({
  name: 'user_spend',
  entities: [user],
  source: activity,
  ttl: '30d',
  features: { clipped_amount: 'float64', is_large_purchase: 'bool' },
  sql: `SELECT user_id, ts,
          LEAST(GREATEST(amount, 0), 1000) AS clipped_amount,
          action = 'purchase' AND amount >= 500 AS is_large_purchase
        FROM {{source}}`,
  description: 'Spend of each event, clipped, with a large-purchase flag',
});

/**
 * The spend band of each event, computed by a TypeScript function in the transform worker threads.
 * It is stored as its source text and compiled alone, so it must be self-contained: no imports or
 * variables from outside the function.
 */
export const userSpendBand = defineFeatureView({
  name: 'user_spend_band',
  entities: [user],
  source: activity,
  ttl: '30d',
  features: { spend_band: 'string', amount_cents: 'int64' },
  transform: (rows) =>
    rows.map((row) => ({
      user_id: row.user_id,
      spend_band:
        row.amount <= 0 ? 'none' : row.amount < 100 ? 'small' : row.amount < 500 ? 'medium' : 'large',
      amount_cents: Math.round(row.amount * 100),
      ts: row.ts,
    })),
  description: 'Spend band and amount in cents of each event',
});

export const churnModel = defineFeatureService({
  name: 'churn_model',
  features: [
    featureRef(userActivity, 'amount'),
    featureRef(userActivity, 'country'),
    featureRef(userSpend, 'clipped_amount'),
    featureRef(userSpend, 'is_large_purchase'),
  ],
  description: 'Features of the churn model',
});
