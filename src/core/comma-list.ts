/** A config list: an array, or one comma-separated string (how an environment variable sets it). */
import { z } from 'zod';

/** A list of `item`, also accepted as "a, b, c". */
export function commaList<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : v,
    z.array(item),
  );
}
