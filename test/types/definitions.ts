/**
 * Compile-time checks of the typed definition helpers, run by `tsc --noEmit -p .` (never executed):
 * each `@ts-expect-error` line must fail to compile, so a helper that stops catching the mistake
 * fails the typecheck. The example project is imported so it is typechecked too.
 */
import {
  activity,
  churnModel,
  user as exampleUser,
  userActivity,
  userSpend,
} from '../../examples/churn/features.js';
import {
  defineEntity,
  defineFeatureService,
  defineFeatureView,
  defineSource,
  featureRef,
} from '../../src/features/definitions.js';
import type { DefinitionsInput } from '../../src/sdk/client.js';

const user = defineEntity({ name: 'user', joinKeys: ['user_id'] });
const clicks = defineSource({
  name: 'clicks',
  kind: 'stream',
  schema: { user_id: 'int64', page: 'string', dwell: 'float64', ts: 'timestamp' },
  timestampField: 'ts',
});

defineSource({
  name: 'bad_ts',
  kind: 'batch',
  schema: { user_id: 'int64', ts: 'string' },
  // @ts-expect-error the timestamp field must have type timestamp
  timestampField: 'ts',
});

defineSource({
  name: 'missing_ts',
  kind: 'batch',
  schema: { user_id: 'int64', ts: 'timestamp' },
  // @ts-expect-error the timestamp field must be a field of the schema
  timestampField: 'when',
});

const pages = defineFeatureView({
  name: 'pages',
  entities: [user],
  source: clicks,
  features: { page: 'string', dwell: 'float64' },
});

defineFeatureView({
  name: 'absent_field',
  entities: [user],
  source: clicks,
  // @ts-expect-error a projection can only name fields of its source
  features: { referrer: 'string' },
});

defineFeatureView({
  name: 'wrong_type',
  entities: [user],
  source: clicks,
  // @ts-expect-error a projected field keeps its source type
  features: { dwell: 'int64' },
});

defineFeatureView({
  name: 'derived',
  entities: [user],
  source: clicks,
  features: { long_dwell: 'bool' },
  sql: 'SELECT user_id, ts, dwell > 30 AS long_dwell FROM {{source}}',
});

// @ts-expect-error a feature reference must name a feature of the view
featureRef(pages, 'nope');

// @ts-expect-error the example's view has no such feature
featureRef(userActivity, 'clipped_amount');

defineFeatureService({ name: 'ranking', features: [featureRef(pages, 'dwell'), featureRef(pages, '*')] });

export const exampleService: { name: 'churn_model'; features: string[] } = churnModel;

/** What the helpers return is the JSON payload `POST /v1/apply` and the SDK accept. */
export const examplePayload: DefinitionsInput = {
  entities: [exampleUser],
  sources: [activity],
  featureViews: [userActivity, userSpend],
  featureServices: [churnModel],
};

/** A TypeScript transform: rows are typed by the source's schema, the output by keys, features and timestamp. */
const dwellMinutes = defineFeatureView({
  name: 'dwell_minutes',
  entities: [user],
  source: clicks,
  features: { minutes: 'float64', page_len: 'int64' },
  transform: (rows) =>
    rows.map((r) => ({ user_id: r.user_id, minutes: r.dwell / 60, page_len: r.page.length, ts: r.ts })),
});

defineFeatureView({
  name: 'ts_wrong_input',
  entities: [user],
  source: clicks,
  features: { minutes: 'float64' },
  // @ts-expect-error a transform's rows have only the source's fields
  transform: (rows) => rows.map((r) => ({ user_id: r.user_id, minutes: r.referrer, ts: r.ts })),
});

defineFeatureView({
  name: 'ts_missing_feature',
  entities: [user],
  source: clicks,
  features: { minutes: 'float64' },
  // @ts-expect-error a transform's output must carry every feature
  transform: (rows) => rows.map((r) => ({ user_id: r.user_id, ts: r.ts })),
});

defineFeatureView({
  name: 'ts_missing_timestamp',
  entities: [user],
  source: clicks,
  features: { minutes: 'float64' },
  // @ts-expect-error a transform's output must carry the source's timestamp field
  transform: (rows) => rows.map((r) => ({ user_id: r.user_id, minutes: r.dwell })),
});

// @ts-expect-error a view has either sql or a transform, not both
defineFeatureView({
  name: 'ts_and_sql',
  entities: [user],
  source: clicks,
  features: { minutes: 'float64' },
  sql: 'SELECT user_id, ts, dwell / 60 AS minutes FROM {{source}}',
  transform: (rows: { user_id: bigint; dwell: number; ts: Date }[]) =>
    rows.map((r) => ({ user_id: r.user_id, minutes: r.dwell, ts: r.ts })),
});

/** A downstream view reads its upstream view's rows: keys, features and event_timestamp as a Date. */
defineFeatureView({
  name: 'long_dwell',
  entities: [user],
  views: [dwellMinutes],
  features: { long: 'bool' },
  transform: (rows) =>
    rows.map((r) => ({
      user_id: r.user_id,
      long: r.minutes !== null && r.minutes > 5,
      event_timestamp: r.event_timestamp.getTime(),
    })),
});

defineFeatureView({
  name: 'long_dwell_wrong',
  entities: [user],
  views: [dwellMinutes],
  features: { long: 'bool' },
  // @ts-expect-error an upstream view's rows carry event_timestamp, not the source's timestamp field
  transform: (rows) => rows.map((r) => ({ user_id: r.user_id, long: true, event_timestamp: r.ts })),
});
