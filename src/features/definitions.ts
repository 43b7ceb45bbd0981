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
    description: z.string().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.source === !v.views) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'give exactly one of "source" or "views"' });
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

/**
 * Defines a feature view. Without a transform its features must be fields of the source, with the
 * source's types; with `sql` they are whatever the query returns.
 */
export function defineFeatureView<const N extends string, const S extends Schema, const F extends Schema>(
  def: {
    name: N;
    entities: readonly { name: string }[];
    source: { name: string; schema: S };
    ttl?: string;
    online?: boolean;
    description?: string;
  } & (
    | { features: F & { [K in keyof F]: K extends keyof S ? S[K] : never }; sql?: undefined }
    | { features: F; sql: string }
  ),
): {
  name: N;
  features: F;
  entities: string[];
  source: string;
  ttl?: string;
  online: boolean;
  sql?: string;
  description?: string;
} {
  return {
    name: def.name,
    entities: def.entities.map((e) => e.name),
    source: def.source.name,
    features: def.features,
    online: def.online ?? true,
    ...(def.ttl ? { ttl: def.ttl } : {}),
    ...(def.sql ? { sql: def.sql } : {}),
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
