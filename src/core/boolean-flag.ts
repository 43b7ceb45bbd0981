/** The config's boolean values, shared by every section of the schema. */
import { z } from 'zod';

/** A boolean that env strings can set: `true`/`false`/`1`/`0` (z.coerce would read "false" as true). */
export const booleanFlag = z.union(
  [z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')],
  { error: 'must be true or false' },
);
