/**
 * Reads an XGBoost JSON model (`Booster.save_model('m.json')`, format of XGBoost 1.x/2.x) into a
 * checked description of its trees. Every structural problem becomes INVALID_ARGUMENT naming the file
 * and what was expected, so a corrupt model is rejected at push time.
 */
import { z } from 'zod';
import { invalidArgument, type MeridianError } from '../../core/errors.js';

const FIELD = 'file';
const EXPECTED = 'expected an XGBoost JSON model as written by Booster.save_model("model.json")';

/** XGBoost writes NaN (categorical splits) and may write ±Infinity, which JSON.parse rejects. */
const NUMBERS = z.array(z.number().nullable());
const INTEGERS = z.array(z.number().int());

const treeSchema = z.object({
  left_children: INTEGERS,
  right_children: INTEGERS,
  split_indices: INTEGERS,
  split_conditions: NUMBERS,
  default_left: z.array(z.union([z.number().int(), z.boolean()])),
  split_type: INTEGERS.optional(),
  categories: INTEGERS.optional(),
  categories_nodes: INTEGERS.optional(),
  categories_segments: INTEGERS.optional(),
  categories_sizes: INTEGERS.optional(),
});

const treeModelSchema = z.object({
  trees: z.array(treeSchema),
  tree_info: INTEGERS,
});

const gbtreeSchema = z.object({ name: z.literal('gbtree'), model: treeModelSchema });
const dartSchema = z.object({
  name: z.literal('dart'),
  gbtree: gbtreeSchema,
  weight_drop: z.array(z.number()),
});

const learnerSchema = z.object({
  learner: z.object({
    learner_model_param: z.object({
      base_score: z.string(),
      num_class: z.string(),
      num_feature: z.string(),
    }),
    objective: z.object({ name: z.string() }),
    gradient_booster: z.object({ name: z.string() }).passthrough(),
    feature_names: z.array(z.string()).optional(),
    feature_types: z.array(z.string()).optional(),
  }),
});

/** One tree's nodes as XGBoost stores them; children -1 mark a leaf, whose value is its split condition. */
export interface XgboostTree {
  left: number[];
  right: number[];
  feature: number[];
  condition: number[];
  defaultLeft: boolean[];
  /** Categorical split nodes (split_type 1) and the categories each sends right. */
  categories: Map<number, number[]>;
}

/** A parsed and checked XGBoost model. */
export interface XgboostModelSpec {
  objective: string;
  /** `base_score` as written (a probability for logistic objectives, a mean for exp ones). */
  baseScore: number;
  /** Number of output groups: num_class for multiclass, else 1. */
  groups: number;
  featureCount: number;
  featureNames?: string[];
  trees: XgboostTree[];
  /** Output group of each tree. */
  treeGroup: number[];
  /** Dart: each tree's output is multiplied by its weight at prediction; gbtree: all 1. */
  treeWeight: number[];
}

function bad(problem: string): MeridianError {
  return invalidArgument(FIELD, problem, EXPECTED);
}

/** Parses JSON with XGBoost's bare NaN / Infinity tokens (outside strings) as null / ±Infinity. */
export function parseXgboostJson(text: string): unknown {
  const sanitized = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) => {
    if (token.startsWith('"')) return token;
    if (token === 'NaN') return 'null';
    return token.startsWith('-') ? '-1e999' : '1e999';
  });
  try {
    return JSON.parse(sanitized);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
}

function integerParam(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw bad(`learner_model_param.${name} "${value}" is not a count`);
  return parsed;
}

/** Validates parsed JSON as an XGBoost tree model. */
export function readXgboostModel(json: unknown): XgboostModelSpec {
  const learner = learnerSchema.safeParse(json);
  if (!learner.success) throw bad(`not an XGBoost model (${z.prettifyError(learner.error).split('\n')[0]})`);
  const l = learner.data.learner;
  const { trees, treeInfo, weights } = readBooster(l.gradient_booster);
  const featureCount = integerParam(l.learner_model_param.num_feature, 'num_feature');
  const numClass = integerParam(l.learner_model_param.num_class, 'num_class');
  // XGBoost ≥ 2.1 writes base_score as a one-element vector, "[5E-1]".
  const baseScore = Number(l.learner_model_param.base_score.replace(/^\[(.*)\]$/, '$1'));
  if (!Number.isFinite(baseScore))
    throw bad(`base_score "${l.learner_model_param.base_score}" is not a number`);
  if (featureCount === 0) throw bad('num_feature is 0');
  if (l.feature_names && l.feature_names.length > 0 && l.feature_names.length !== featureCount) {
    throw bad(`${l.feature_names.length} feature_names for num_feature ${featureCount}`);
  }
  const groups = Math.max(numClass, 1);
  if (treeInfo.length !== trees.length)
    throw bad(`tree_info has ${treeInfo.length} entries for ${trees.length} trees`);
  const badGroup = treeInfo.find((g) => g < 0 || g >= groups);
  if (badGroup !== undefined) throw bad(`tree_info names output group ${badGroup} of ${groups}`);
  return {
    objective: l.objective.name,
    baseScore,
    groups,
    featureCount,
    ...(l.feature_names && l.feature_names.length > 0 ? { featureNames: l.feature_names } : {}),
    trees: trees.map((t, i) => readTree(t, i, featureCount)),
    treeGroup: treeInfo,
    treeWeight: weights ?? trees.map(() => 1),
  };
}

type RawTree = z.infer<typeof treeSchema>;

function readBooster(booster: { name: string }): {
  trees: RawTree[];
  treeInfo: number[];
  weights?: number[];
} {
  if (booster.name === 'gbtree') {
    const parsed = gbtreeSchema.safeParse(booster);
    if (!parsed.success) throw bad(`malformed gbtree (${z.prettifyError(parsed.error).split('\n')[0]})`);
    return { trees: parsed.data.model.trees, treeInfo: parsed.data.model.tree_info };
  }
  if (booster.name === 'dart') {
    const parsed = dartSchema.safeParse(booster);
    if (!parsed.success)
      throw bad(`malformed dart booster (${z.prettifyError(parsed.error).split('\n')[0]})`);
    const { model } = parsed.data.gbtree;
    if (parsed.data.weight_drop.length !== model.trees.length) {
      throw bad(
        `dart weight_drop has ${parsed.data.weight_drop.length} entries for ${model.trees.length} trees`,
      );
    }
    return { trees: model.trees, treeInfo: model.tree_info, weights: parsed.data.weight_drop };
  }
  throw invalidArgument(
    FIELD,
    `booster "${booster.name}" is not supported`,
    'the served boosters are gbtree, dart, gblinear; retrain with booster="gbtree"',
  );
}

function readTree(raw: RawTree, index: number, featureCount: number): XgboostTree {
  const n = raw.left_children.length;
  const where = `tree ${index}`;
  for (const [name, arr] of [
    ['right_children', raw.right_children],
    ['split_indices', raw.split_indices],
    ['split_conditions', raw.split_conditions],
    ['default_left', raw.default_left],
  ] as const) {
    if (arr.length !== n) throw bad(`${where}: ${name} has ${arr.length} entries for ${n} nodes`);
  }
  if (n === 0) throw bad(`${where} has no nodes`);
  const tree: XgboostTree = {
    left: raw.left_children,
    right: raw.right_children,
    feature: raw.split_indices,
    condition: raw.split_conditions.map((v) => (v === null ? Number.NaN : v)),
    defaultLeft: raw.default_left.map((v) => v === true || v === 1),
    categories: readCategories(raw, where),
  };
  checkShape(tree, where, featureCount);
  return tree;
}

function readCategories(raw: RawTree, where: string): Map<number, number[]> {
  const result = new Map<number, number[]>();
  const types = raw.split_type ?? [];
  const nodes = raw.categories_nodes ?? [];
  const segments = raw.categories_segments ?? [];
  const sizes = raw.categories_sizes ?? [];
  const cats = raw.categories ?? [];
  if (segments.length !== nodes.length || sizes.length !== nodes.length) {
    throw bad(`${where}: categories_nodes, categories_segments and categories_sizes differ in length`);
  }
  nodes.forEach((node, i) => {
    const start = segments[i]!;
    const size = sizes[i]!;
    if (start < 0 || size < 1 || start + size > cats.length)
      throw bad(`${where}: category segment ${i} is out of range`);
    const set = cats.slice(start, start + size);
    if (set.some((c) => c < 0)) throw bad(`${where}: negative category in node ${node}`);
    result.set(node, set);
  });
  types.forEach((type, node) => {
    if (type === 1 && !result.has(node)) throw bad(`${where}: categorical node ${node} has no categories`);
    if (type !== 0 && type !== 1) throw bad(`${where}: split_type ${type} of node ${node} is unknown`);
  });
  for (const node of result.keys()) if (types[node] !== 1) result.delete(node);
  return result;
}

/** Checks that the nodes form one tree from node 0 (no cycle, no shared child) with valid features. */
function checkShape(tree: XgboostTree, where: string, featureCount: number): void {
  const n = tree.left.length;
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen[node]) throw bad(`${where}: node ${node} is reached twice`);
    seen[node] = 1;
    const left = tree.left[node]!;
    const right = tree.right[node]!;
    if (left === -1) {
      if (!Number.isFinite(tree.condition[node])) throw bad(`${where}: leaf ${node} has no finite value`);
      continue;
    }
    if (left < 1 || left >= n || right < 1 || right >= n)
      throw bad(`${where}: node ${node} has a child out of range`);
    const feature = tree.feature[node]!;
    if (feature < 0 || feature >= featureCount) {
      throw bad(`${where}: node ${node} splits on feature ${feature} of ${featureCount}`);
    }
    stack.push(left, right);
  }
}
