/**
 * A request body checked against its zod schema: the first problem becomes an INVALID_ARGUMENT whose
 * field is the JSON path (an unknown key names itself), with a hint chosen by the route.
 */
import type { z } from 'zod';
import { invalidArgument } from '../../core/errors.js';

/** The parsed body, or the first issue as a 400 naming its field. */
export function parseBody<T extends z.ZodType>(
  schema: T,
  body: unknown,
  hintFor: (field: string, unknownKey: boolean) => string,
): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const unknownKey = issue.code === 'unrecognized_keys';
  const path = unknownKey ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const field = path.map(String).join('.') || 'body';
  const problem = unknownKey ? 'is not a known field' : issue.message.replace(/^Invalid input: /, '');
  throw invalidArgument(field, problem, hintFor(field, unknownKey));
}
