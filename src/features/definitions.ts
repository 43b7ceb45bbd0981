/**
 * Feature store definitions: what `defineEntity` / `defineSource` / `defineFeatureView` /
 * `defineFeatureService` produce and what `POST /v1/apply` accepts as JSON — the same objects.
 * The helpers are typed so a feature that does not exist is a compile error; the zod schemas check
 * the same rules at run time for JSON.
 */
import { z } from 'zod';
import { parseDuration } from '../core/clock.js';

export const FEATURE_TYPES = [
  'int64',
  'int32',
  'float64',
  'float32',
  'string',
  'bool',
  'timestamp',
  'float64[]',
] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
export type Schema = Record<string, FeatureType>;

/** A name usable as a SQL identifier, a table suffix and a URL segment. */
const name = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,62}$/,
    'must be 1-63 lowercase letters, digits or underscores, starting with a letter',
  );
const fieldName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    'must be 1-63 letters, digits or underscores, not starting with a digit',
  );
const schema = z
  .record(fieldName, z.enum(FEATURE_TYPES))
  .refine((s) => Object.keys(s).length > 0, 'must name at least one field');
const duration = z
  .string()
  .refine((d) => parseDuration(d) !== undefined, 'must be a duration such as "30s", "15m", "1h", "30d"');

export const entitySchema = z
  .object({ name, joinKeys: z.array(fieldName).min(1), description: z.string().optional() })
  .strict();

export const sourceSchema = z
  .object({
    name,
    kind: z.enum(['stream', 'batch']),
    timestampField: fieldName,
    /** Events with the same id are one event: a retried push is dropped. Without it, a hash of the whole event. */
    idField: fieldName.optional(),
    schema,
    description: z.string().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.schema[s.timestampField] !== 'timestamp') {
      ctx.addIssue({
        code: 'custom',
        path: ['timestampField'],
        message: `"${s.timestampField}" must be a field of type timestamp in schema`,
      });
    }
    if (s.idField && !(s.idField in s.schema)) {
      ctx.addIssue({ code: 'custom', path: ['idField'], message: `"${s.idField}" is not a field of schema` });
    }
  });

export const featureViewSchema = z
  .object({
    name,
    entities: z.array(name).min(1),
    /** A source name; exclusive with `views`. */
    source: name.optional(),
    /** Upstream feature views this one reads (a DAG); exclusive with `source`. */
    views: z.array(name).min(1).optional(),
    ttl: duration.optional(),
    online: z.boolean().default(true),
    features: schema,
    /** A DuckDB SQL transform over `{{source}}` (or `{{view_name}}` for upstream views). */
    sql: z.string().min(1).optional(),
    /**
     * A JavaScript function over a batch of rows, as source text (`fn.toString()`): it must be
     * self-contained, closing over no imports or outer variables, because it is compiled alone in a
     * worker thread. Exclusive with `sql`.
     */
    transform: z.string().min(1).optional(),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.source === !v.views) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'give exactly one of "source" or "views"' });
    }
    if (v.sql !== undefined && v.transform !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['transform'],
        message: 'give either "sql" or "transform", not both: a view has one transform',
      });
    }
  });

export const featureServiceSchema = z
  .object({
    name,
    /** `view:feature` references, or `view:*` for every feature of a view. */
    features: z
      .array(
        z
          .string()
          .regex(/^[a-z][a-z0-9_]*:([A-Za-z_][A-Za-z0-9_]*|\*)$/, 'must be "view:feature" or "view:*"'),
      )
      .min(1),
    description: z.string().optional(),
  })
  .strict();

export const definitionsSchema = z
  .object({
    entities: z.array(entitySchema).default([]),
    sources: z.array(sourceSchema).default([]),
    featureViews: z.array(featureViewSchema).default([]),
    featureServices: z.array(featureServiceSchema).default([]),
  })
  .strict();

export type EntityDef = z.infer<typeof entitySchema>;
export type SourceDef = z.infer<typeof sourceSchema>;
export type FeatureViewDef = z.infer<typeof featureViewSchema>;
export type FeatureServiceDef = z.infer<typeof featureServiceSchema>;
export type Definitions = z.infer<typeof definitionsSchema>;

/** A batch of rows a TypeScript transform receives and returns. */
export type Row = Record<string, unknown>;

/** Defines an entity: the join keys its feature rows are looked up by. */
export function defineEntity<const N extends string, const K extends readonly string[]>(def: {
  name: N;
  joinKeys: K;
  description?: string;
}): { name: N; joinKeys: K; description?: string } {
  return def;
}

/** Defines a source of events or files; `timestampField` must be a timestamp field of its schema. */
export function defineSource<const N extends string, const S extends Schema>(def: {
  name: N;
  kind: 'stream' | 'batch';
  schema: S;
  timestampField: { [K in keyof S]: S[K] extends 'timestamp' ? K : never }[keyof S] & string;
  idField?: keyof S & string;
  description?: string;
}): typeof def {
  return def;
}

/** The value a TypeScript transform receives for each feature type (identical in push and file loads). */
export interface TransformValueTypes {
  int64: bigint;
  int32: number;
  float64: number;
  float32: number;
  string: string;
  bool: boolean;
  timestamp: Date;
  'float64[]': number[];
}

/** What a TypeScript transform may return for each feature type. */
export interface TransformOutputTypes extends Omit<TransformValueTypes, 'int64' | 'timestamp'> {
  /** A bigint, or a safe integer number. */
  int64: bigint | number;
  /** A Date, or epoch milliseconds. */
  timestamp: Date | number;
}

/** A row of a source's schema as a TypeScript transform receives it. */
export type RowOf<S extends Schema> = { [K in keyof S]: TransformValueTypes[S[K]] };

/** An entity as the view helper needs it: its join keys type the transform's output. */
interface EntityLike {
  name: string;
  joinKeys: readonly string[];
}
type JoinKeys<E extends readonly EntityLike[]> = E[number]['joinKeys'][number];

/** The row a view's TypeScript transform returns: join keys, features and the event timestamp field. */
export type TransformOutput<In, K extends string, F extends Schema, T extends string> = {
  [P in K]: P extends keyof In ? (In[P] extends Date ? Date | number : In[P] | number) : unknown;
} & { [P in keyof F]: TransformOutputTypes[F[P]] | null } & { [P in T]: Date | number };

/** A view's row as a downstream view's TypeScript transform receives it. */
export type ViewRowOf<In, K extends string, F extends Schema> = {
  [P in K]: P extends keyof In ? In[P] : unknown;
} & { [P in keyof F]: TransformValueTypes[F[P]] | null } & { event_timestamp: Date };

interface ViewOptions<N extends string, E extends readonly EntityLike[]> {
  name: N;
  entities: E;
  ttl?: string;
  online?: boolean;
  description?: string;
}

/** A view's transform: none (a projection), `sql`, or a TypeScript function over a batch of rows. */
type TransformChoice<In, Out, F extends Schema, Projectable extends Schema> =
  | {
      features: F & { [K in keyof F]: K extends keyof Projectable ? Projectable[K] : never };
      sql?: undefined;
      transform?: undefined;
    }
  | { features: F; sql: string; transform?: undefined }
  | { features: F; transform: (rows: In[]) => Out[] | Promise<Out[]>; sql?: undefined };

/** What `defineFeatureView` returns: the JSON of `POST /v1/apply`, plus a type-only row type. */
export interface DefinedView<N extends string, F extends Schema, R> {
  name: N;
  features: F;
  entities: string[];
  source?: string;
  views?: string[];
  ttl?: string;
  online: boolean;
  sql?: string;
  transform?: string;
  description?: string;
  /** Type only, never set: the rows a downstream view's TypeScript transform receives from this one. */
  readonly rowType?: R;
}

type UpstreamRow<V extends readonly { rowType?: unknown }[]> = NonNullable<V[number]['rowType']>;
/** The rows a view's transform receives: its source's rows, or its upstream views' rows. */
type InputRow<S extends Schema, V extends readonly { rowType?: unknown }[]> = [V] extends [never]
  ? RowOf<S>
  : UpstreamRow<V>;

/**
 * Defines a feature view over a source or over upstream views. Without a transform its features
 * must be fields of the input, with their types; with `sql` they are whatever the query returns;
 * with `transform` a function maps each batch of input rows (timestamps as Date, int64 as bigint;
 * from upstream views with `event_timestamp`) to output rows carrying the join keys, the features
 * and the timestamp field (`event_timestamp` over views). The function is stored as its source
 * text and compiled alone in a worker thread, so it must be self-contained: no closures over
 * imports or outer variables (the same rule as Feast's serialised UDFs).
 */
export function defineFeatureView<
  const N extends string,
  const E extends readonly EntityLike[],
  const F extends Schema,
  const S extends Schema = never,
  const T extends string = never,
  const V extends readonly { name: string; rowType?: unknown }[] = never,
>(
  def: ViewOptions<N, E> &
    (
      | { source: { name: string; schema: S; timestampField: T }; views?: undefined }
      | { views: V; source?: undefined }
    ) &
    TransformChoice<
      InputRow<S, V>,
      TransformOutput<InputRow<S, V>, JoinKeys<E>, F, [V] extends [never] ? T : 'event_timestamp'>,
      F,
      [V] extends [never] ? S : Schema
    >,
): DefinedView<N, F, ViewRowOf<InputRow<S, V>, JoinKeys<E>, F>>;
export function defineFeatureView(
  def: ViewOptions<string, readonly EntityLike[]> & {
    source?: { name: string };
    views?: readonly { name: string }[];
    features: Schema;
    sql?: string;
    transform?: (rows: never[]) => unknown;
  },
): DefinedView<string, Schema, unknown> {
  return {
    name: def.name,
    entities: def.entities.map((e) => e.name),
    ...(def.source ? { source: def.source.name } : { views: (def.views ?? []).map((v) => v.name) }),
    features: def.features,
    online: def.online ?? true,
    ...(def.ttl ? { ttl: def.ttl } : {}),
    ...(def.sql ? { sql: def.sql } : {}),
    ...(def.transform ? { transform: def.transform.toString() } : {}),
    ...(def.description ? { description: def.description } : {}),
  };
}

/** A typed `view:feature` reference: a feature the view does not have is a compile error. */
export function featureRef<
  const V extends { name: string; features: Schema },
  const F extends keyof V['features'] & string,
>(view: V, feature: F | '*'): `${V['name']}:${F | '*'}` {
  return `${view.name}:${feature}` as `${V['name']}:${F | '*'}`;
}

/** Defines the named list of features a model consumes (build the list with `featureRef`). */
export function defineFeatureService<const N extends string>(def: {
  name: N;
  features: readonly `${string}:${string}`[];
  description?: string;
}): { name: N; features: string[]; description?: string } {
  return {
    name: def.name,
    features: [...def.features],
    ...(def.description ? { description: def.description } : {}),
  };
}
