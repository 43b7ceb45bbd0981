/**
 * The feature definitions most suites declare: the `user` entity, the `activity` source of user
 * events and the `user_activity` view over it, as the JSON `POST /v1/apply` and `definitionsSchema`
 * take. Suites pass what they vary (source kind, columns, TTL) and add their own pieces beside them.
 */
import type { z } from 'zod';
import type {
  entitySchema,
  FeatureType,
  featureViewSchema,
  sourceSchema,
} from '../../src/features/definitions.js';

type EntityInput = z.input<typeof entitySchema>;
type SourceInput = z.input<typeof sourceSchema>;
type FeatureViewInput = z.input<typeof featureViewSchema>;
type Columns = Record<string, FeatureType>;

/** The `user` entity keyed by `user_id`. */
export const USER: EntityInput = { name: 'user', joinKeys: ['user_id'] };

/** The activity columns besides the key and the timestamp. */
export const ACTIVITY_FEATURES: Readonly<Columns> = { amount: 'float64', country: 'string' };

export interface ActivitySourceOptions {
  /** Default `stream`. */
  kind?: 'stream' | 'batch';
  /** The columns between `user_id` and `ts`; default `ACTIVITY_FEATURES`. */
  features?: Readonly<Columns>;
}

/** The `activity` source: `user_id` int64, the feature columns, `ts` timestamp. */
export function activitySource(options: ActivitySourceOptions = {}): SourceInput {
  return {
    name: 'activity',
    kind: options.kind ?? 'stream',
    timestampField: 'ts',
    schema: { user_id: 'int64', ...(options.features ?? ACTIVITY_FEATURES), ts: 'timestamp' },
  };
}

export interface UserActivityOptions {
  ttl?: string;
  online?: boolean;
  /** Default `ACTIVITY_FEATURES`. */
  features?: Readonly<Columns>;
}

/** The `user_activity` view: the activity columns per user, straight from the `activity` source. */
export function userActivityView(options: UserActivityOptions = {}): FeatureViewInput {
  return {
    name: 'user_activity',
    entities: ['user'],
    source: 'activity',
    ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
    ...(options.online !== undefined ? { online: options.online } : {}),
    features: { ...(options.features ?? ACTIVITY_FEATURES) },
  };
}
