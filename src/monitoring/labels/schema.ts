/**
 * The body of `POST /v1/labels`: ground truth that arrives after the prediction, each label keyed
 * either by the prediction's request id and row, or by the model, the entity key and a time (then
 * it belongs to the latest prediction for that entity at or before the time). Checked with zod;
 * an error names the first bad field by its JSON path.
 */
import { z } from 'zod';
import { invalidArgument } from '../../core/errors.js';

/** Labels accepted in one request. */
export const MAX_LABELS_PER_REQUEST = 10_000;

const labelValue = z
  .union([z.number(), z.string().min(1).max(256), z.boolean()])
  .describe('The true class (number, string or boolean) or the true value of a regression');

const byPrediction = z
  .object({
    predictionId: z.string().min(1).max(256).describe("The prediction's request id"),
    row: z.number().int().min(0).max(2_147_483_647).default(0).describe('The row in the request (default 0)'),
    label: labelValue,
    time: z.iso.datetime({ offset: true }).optional().describe('When the outcome was observed (default now)'),
  })
  .strict();

const ENTITY_KEY_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

const entityValue = z.union([z.string().min(1), z.number(), z.boolean()]);

const byEntity = z
  .object({
    model: z.string().min(1).max(128).describe('The model whose prediction is labelled'),
    entity: z
      .record(
        z.string().regex(ENTITY_KEY_NAME, 'is not an entity key name (letters, digits, _ and -)'),
        entityValue,
      )
      .refine((keys) => Object.keys(keys).length > 0, 'needs at least one key')
      .describe('The entity key, e.g. {"user_id": 101}, as sent with the prediction'),
    time: z.iso
      .datetime({ offset: true })
      .describe('The label belongs to the latest prediction for the entity at or before this time'),
    label: labelValue,
  })
  .strict();

/** The body of `POST /v1/labels`. */
export const labelsRequestSchema = z
  .object({
    labels: z
      .array(z.union([byPrediction, byEntity]))
      .min(1)
      .max(MAX_LABELS_PER_REQUEST)
      .describe(`Up to ${MAX_LABELS_PER_REQUEST} labels`),
  })
  .strict();

export type LabelsRequest = z.infer<typeof labelsRequestSchema>;
export type LabelInput = LabelsRequest['labels'][number];
export type LabelByPrediction = z.infer<typeof byPrediction>;
export type LabelByEntity = z.infer<typeof byEntity>;

/** True when the label names its prediction by request id. */
export function isByPrediction(label: LabelInput): label is LabelByPrediction {
  return 'predictionId' in label;
}

function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out = out ? `${out}.${String(part)}` : String(part);
  }
  return out || 'body';
}

const SHAPES =
  'send {"predictionId": "<request id>", "row": 0, "label": 1} or ' +
  '{"model": "<name>", "entity": {"user_id": 101}, "time": "<ISO 8601>", "label": 1}';

/** Within a union, the first issue of the branch with fewest issues: the shape the label meant. */
function deepest(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
  const inner = best[0];
  return inner ? { ...inner, path: [...issue.path, ...inner.path] } : issue;
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function problemOf(issue: z.core.$ZodIssue, body: unknown): string {
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  if (issue.code === 'invalid_key')
    return 'is not an entity key name (a letter or _, then letters, digits, _ or -)';
  if (issue.path.length > 0 && valueAt(body, issue.path) === undefined) return 'is missing';
  if (issue.path.at(-1) === 'label' && issue.code === 'invalid_union') {
    return 'must be a number, a string or a boolean';
  }
  return issue.message.replace(/^Invalid input: /, '');
}

/** Parses the body; the error names the first bad field by its JSON path and says what to send. */
export function parseLabelsRequest(body: unknown): LabelsRequest {
  const result = labelsRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = deepest(result.error.issues[0]!);
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const hint = path.length === 0 ? 'send {"labels": [...]}' : SHAPES;
  throw invalidArgument(jsonPath(path), problemOf(issue, body), hint);
}
