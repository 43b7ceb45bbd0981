/**
 * The field label a violation is counted under. Errors name a value by its path in the request
 * (`events[3].amount`); the count is per field, so the event index is dropped. A name the source
 * does not declare (a misspelt field a client sent) becomes `_unknown`: the label set stays
 * bounded whatever clients send, and the sample message still names it.
 */

/** Names that stand for the request or message as a whole rather than one field. */
const WHOLE = new Set(['events', 'event', 'message', 'file', 'format', 'source']);

/** Field label of a violation of a source with these schema fields. */
export function violationField(path: string, schemaFields: ReadonlySet<string>): string {
  const field = path.replace(/^events\[\d+\]\.?/, '') || (path === '' ? 'source' : 'event');
  if (schemaFields.has(field) || WHOLE.has(field)) return field;
  return '_unknown';
}
