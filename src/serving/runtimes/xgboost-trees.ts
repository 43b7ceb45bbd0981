/**
 * A tree ensemble compiled into flat typed arrays, evaluated as XGBoost 1.7's CPU predictor does:
 * inputs and thresholds in float32, `x < threshold` goes left, a missing value (NaN) takes the node's
 * default branch, a categorical split sends the categories in its set right, and each output group's
 * margin is summed in float32, tree by tree in model order, starting from the base margin.
 */
import type { XgboostModelSpec, XgboostTree } from './xgboost-format.js';

/** Largest category XGBoost accepts: a float32 holds integers exactly only below 2^24. */
const MAX_CATEGORY = 16777216;
/** Rows evaluated together, tree by tree, so a tree's nodes stay in cache (XGBoost uses 64 too). */
const BLOCK_ROWS = 64;

/**
 * Flat node arrays of all trees. Nodes are renumbered so that a node's right child directly follows
 * its left child (`child[n]` and `child[n] + 1`). A leaf points to itself (`child`, `missing`) with
 * `step` 0, so a row can take exactly `depth` steps through a tree without testing for leaves.
 */
export interface TreeEnsemble {
  readonly featureCount: number;
  readonly groups: number;
  /** Base margin per row and group, already a float32 value. */
  readonly baseMargin: number;
  readonly roots: Int32Array;
  readonly groupOf: Int32Array;
  /** Levels of each tree: steps from the root to its deepest leaf. */
  readonly depth: Int32Array;
  readonly child: Int32Array;
  /** The child a missing value (NaN) takes. */
  readonly missing: Int32Array;
  /** 1 for a split, 0 for a leaf. */
  readonly step: Uint8Array;
  readonly feature: Int32Array;
  /** Split threshold, or for a leaf its value (times the dart weight), both float32 values. */
  readonly value: Float64Array;
  /** First word of the node's category bitset in `catBits`, or -1 for a numeric split. */
  readonly catOffset: Int32Array;
  readonly catWords: Int32Array;
  readonly catBits: Uint32Array;
  readonly hasCategorical: boolean;
}

interface Builder {
  child: Int32Array;
  missing: Int32Array;
  step: Uint8Array;
  feature: Int32Array;
  value: Float64Array;
  catOffset: Int32Array;
  catWords: Int32Array;
  words: number[];
}

/** Compiles a parsed model into flat arrays; `baseMargin` is the margin the objective derives from base_score. */
export function compileEnsemble(spec: XgboostModelSpec, baseMargin: number): TreeEnsemble {
  const total = spec.trees.reduce((sum, t) => sum + t.left.length, 0);
  const b: Builder = {
    child: new Int32Array(total),
    missing: new Int32Array(total),
    step: new Uint8Array(total),
    feature: new Int32Array(total),
    value: new Float64Array(total),
    catOffset: new Int32Array(total).fill(-1),
    catWords: new Int32Array(total),
    words: [],
  };
  const roots = new Int32Array(spec.trees.length);
  const depth = new Int32Array(spec.trees.length);
  let offset = 0;
  spec.trees.forEach((tree, t) => {
    roots[t] = offset;
    const placed = placeTree(b, tree, offset, Math.fround(spec.treeWeight[t]!));
    depth[t] = placed.depth;
    offset = placed.end;
  });
  return {
    featureCount: spec.featureCount,
    groups: spec.groups,
    baseMargin: Math.fround(baseMargin),
    roots,
    depth,
    groupOf: Int32Array.from(spec.treeGroup),
    child: b.child,
    missing: b.missing,
    step: b.step,
    feature: b.feature,
    value: b.value,
    catOffset: b.catOffset,
    catWords: b.catWords,
    catBits: Uint32Array.from(b.words),
    hasCategorical: b.words.length > 0,
  };
}

/** Lays out one tree breadth first from `offset`, children side by side; returns its end and depth. */
function placeTree(
  b: Builder,
  tree: XgboostTree,
  offset: number,
  weight: number,
): { end: number; depth: number } {
  const queue = [0];
  const level = [0];
  let next = offset + 1;
  let depth = 0;
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    const g = offset + q;
    const v = Math.fround(tree.condition[i]!);
    depth = Math.max(depth, level[q]!);
    if (tree.left[i] === -1) {
      b.child[g] = g;
      b.missing[g] = g;
      b.value[g] = weight === 1 ? v : Math.fround(v * weight);
      continue;
    }
    b.child[g] = next;
    b.missing[g] = tree.defaultLeft[i] ? next : next + 1;
    b.step[g] = 1;
    b.feature[g] = tree.feature[i]!;
    b.value[g] = v;
    const cats = tree.categories.get(i);
    if (cats) {
      b.catOffset[g] = b.words.length;
      b.catWords[g] = appendBitset(b.words, cats);
    }
    queue.push(tree.left[i]!, tree.right[i]!);
    level.push(level[q]! + 1, level[q]! + 1);
    next += 2;
  }
  return { end: offset + queue.length, depth };
}

/** Appends a bitset of ceil((max+1)/32) words, as XGBoost sizes it on load; returns the word count. */
function appendBitset(words: number[], cats: number[]): number {
  const count = (Math.max(...cats) >>> 5) + 1;
  const start = words.length;
  for (let i = 0; i < count; i++) words.push(0);
  for (const c of cats) words[start + (c >>> 5)]! |= 1 << (c & 31);
  return count;
}

/**
 * XGBoost 1.7's categorical decision: an invalid category (negative, ≥ 2^24) or one beyond the
 * node's bitset goes left, as does a category not in the set; the value is truncated to an integer.
 */
function categoryGoesLeft(e: TreeEnsemble, node: number, x: number): boolean {
  if (x < 0 || x >= MAX_CATEGORY) return true;
  const c = Math.trunc(x);
  const word = c >>> 5;
  if (word >= e.catWords[node]!) return true;
  return (e.catBits[e.catOffset[node]! + word]! & (1 << (c & 31))) === 0;
}

/** The leaf value the row at `base` in `rows` (float32 values) reaches from `root`. */
function mixedLeaf(e: TreeEnsemble, root: number, rows: Float32Array, base: number): number {
  const { child, missing, feature, value, catOffset, step } = e;
  let node = root;
  while (step[node] === 1) {
    const x = rows[base + feature[node]!]!;
    const left = child[node]!;
    if (Number.isNaN(x)) node = missing[node]!;
    else if (catOffset[node]! >= 0) node = categoryGoesLeft(e, node, x) ? left : left + 1;
    else node = x < value[node]! ? left : left + 1;
  }
  return value[node]!;
}

/** Adds a leaf to a margin; storing into the Float32Array rounds the sum as XGBoost's float `+=` does. */
function accumulate(out: Float32Array, index: number, leaf: number): void {
  out[index] = out[index]! + leaf;
}

/**
 * Margins of `rows` row-major rows into `out` (`rows * groups`, float32 like XGBoost's own buffer,
 * so each `+=` rounds as XGBoost's float additions do). Inputs are rounded to float32 first, as
 * XGBoost's DMatrix stores them.
 */
export function computeMargins(
  e: TreeEnsemble,
  values: Float64Array | Float32Array,
  rows: number,
  out: Float32Array,
): void {
  const f = e.featureCount;
  const groups = e.groups;
  const block = new Float32Array(Math.min(rows, BLOCK_ROWS) * f);
  out.fill(e.baseMargin, 0, rows * groups);
  for (let start = 0; start < rows; start += BLOCK_ROWS) {
    const count = Math.min(BLOCK_ROWS, rows - start);
    block.set(values.subarray(start * f, (start + count) * f));
    if (e.hasCategorical) mixedBlock(e, block, count, out, start);
    else numericBlock(e, block, count, out, start);
  }
}

/**
 * Adds every tree's leaf to the margins of a block of rows; numeric splits only, the hot path. Walks
 * four rows through a tree together, each for exactly the tree's depth (leaves loop onto themselves),
 * with no data-dependent branch, so the CPU overlaps their loads instead of mispredicting.
 */
function numericBlock(
  e: TreeEnsemble,
  block: Float32Array,
  count: number,
  out: Float32Array,
  start: number,
): void {
  const { child, missing, feature, value, step, roots, depth, groupOf, featureCount: f, groups } = e;
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!;
    const levels = depth[t]!;
    const at = start * groups + groupOf[t]!;
    let r = 0;
    for (; r + 3 < count; r += 4) {
      const base = r * f;
      let a = root;
      let b = root;
      let c = root;
      let d = root;
      for (let level = 0; level < levels; level++) {
        const xa = block[base + feature[a]!]!;
        const xb = block[base + f + feature[b]!]!;
        const xc = block[base + 2 * f + feature[c]!]!;
        const xd = block[base + 3 * f + feature[d]!]!;
        a = Number.isNaN(xa) ? missing[a]! : child[a]! + (Number(!(xa < value[a]!)) & step[a]!);
        b = Number.isNaN(xb) ? missing[b]! : child[b]! + (Number(!(xb < value[b]!)) & step[b]!);
        c = Number.isNaN(xc) ? missing[c]! : child[c]! + (Number(!(xc < value[c]!)) & step[c]!);
        d = Number.isNaN(xd) ? missing[d]! : child[d]! + (Number(!(xd < value[d]!)) & step[d]!);
      }
      accumulate(out, at + r * groups, value[a]!);
      accumulate(out, at + (r + 1) * groups, value[b]!);
      accumulate(out, at + (r + 2) * groups, value[c]!);
      accumulate(out, at + (r + 3) * groups, value[d]!);
    }
    for (; r < count; r++) accumulate(out, at + r * groups, numericLeaf(e, root, levels, block, r * f));
  }
}

/** One row's walk of numericBlock: `levels` branch-free steps from `root`. */
function numericLeaf(
  e: TreeEnsemble,
  root: number,
  levels: number,
  rows: Float32Array,
  base: number,
): number {
  const { child, missing, feature, value, step } = e;
  let node = root;
  for (let level = 0; level < levels; level++) {
    const x = rows[base + feature[node]!]!;
    node = Number.isNaN(x) ? missing[node]! : child[node]! + (Number(!(x < value[node]!)) & step[node]!);
  }
  return value[node]!;
}

/** As numericBlock, for ensembles with categorical splits. */
function mixedBlock(
  e: TreeEnsemble,
  block: Float32Array,
  count: number,
  out: Float32Array,
  start: number,
): void {
  const groups = e.groups;
  for (let t = 0; t < e.roots.length; t++) {
    const root = e.roots[t]!;
    const at = start * groups + e.groupOf[t]!;
    for (let r = 0; r < count; r++)
      accumulate(out, at + r * groups, mixedLeaf(e, root, block, r * e.featureCount));
  }
}
