/**
 * Evaluates LightGBM trees exactly as LightGBM's `Tree::GetLeaf`, `NumericalDecision` and
 * `CategoricalDecision` do, in double precision. All trees are packed into flat typed arrays: node
 * children are global node indices, and a negative child `~leaf` is a global leaf index.
 */
import {
  CATEGORICAL_MASK,
  DEFAULT_LEFT_MASK,
  type LightgbmTree,
  MISSING_NAN,
  MISSING_ZERO,
} from './lightgbm-tree-format.js';

/** LightGBM's `kZeroThreshold`: a double initialised from the float literal `1e-35f`. */
const ZERO_THRESHOLD = Math.fround(1e-35);
const INT_LIMIT = 2 ** 31;

/** Every tree of a model in flat arrays. */
export interface Forest {
  treeCount: number;
  /** Per tree: its root node, or `~leaf` for a single-leaf tree. */
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  decisionType: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  leafValue: Float64Array;
  /** Per categorical node: its first word in `catWords` and how many words its bitset has. */
  catStart: Int32Array;
  catLength: Int32Array;
  catWords: Uint32Array;
}

/** Packs parsed trees into one flat forest. */
export function compileForest(trees: LightgbmTree[]): Forest {
  const nodeCount = trees.reduce((sum, tree) => sum + tree.numLeaves - 1, 0);
  const leafCount = trees.reduce((sum, tree) => sum + tree.numLeaves, 0);
  const wordCount = trees.reduce((sum, tree) => sum + tree.catThreshold.length, 0);
  const forest: Forest = {
    treeCount: trees.length,
    roots: new Int32Array(trees.length),
    feature: new Int32Array(nodeCount),
    threshold: new Float64Array(nodeCount),
    decisionType: new Uint8Array(nodeCount),
    left: new Int32Array(nodeCount),
    right: new Int32Array(nodeCount),
    leafValue: new Float64Array(leafCount),
    catStart: new Int32Array(nodeCount),
    catLength: new Int32Array(nodeCount),
    catWords: new Uint32Array(wordCount),
  };
  let nodeBase = 0;
  let leafBase = 0;
  let wordBase = 0;
  trees.forEach((tree, index) => {
    forest.roots[index] = tree.numLeaves > 1 ? nodeBase : ~leafBase;
    copyTree(forest, tree, nodeBase, leafBase, wordBase);
    nodeBase += tree.numLeaves - 1;
    leafBase += tree.numLeaves;
    wordBase += tree.catThreshold.length;
  });
  return forest;
}

function copyTree(
  forest: Forest,
  tree: LightgbmTree,
  nodeBase: number,
  leafBase: number,
  wordBase: number,
): void {
  const relocate = (child: number) => (child >= 0 ? child + nodeBase : ~(~child + leafBase));
  for (let node = 0; node < tree.numLeaves - 1; node++) {
    const at = nodeBase + node;
    forest.feature[at] = tree.splitFeature[node]!;
    forest.threshold[at] = tree.threshold[node]!;
    forest.decisionType[at] = tree.decisionType[node]!;
    forest.left[at] = relocate(tree.leftChild[node]!);
    forest.right[at] = relocate(tree.rightChild[node]!);
    if ((tree.decisionType[node]! & CATEGORICAL_MASK) !== 0) {
      const catIndex = tree.threshold[node]!;
      forest.catStart[at] = wordBase + tree.catBoundaries[catIndex]!;
      forest.catLength[at] = tree.catBoundaries[catIndex + 1]! - tree.catBoundaries[catIndex]!;
    }
  }
  forest.leafValue.set(tree.leafValue, leafBase);
  forest.catWords.set(tree.catThreshold, wordBase);
}

/**
 * The global leaf index a row (starting at `offset` in `values`) reaches in the tree rooted at `root`.
 * One loop without calls that pass doubles, so V8 keeps every value unboxed.
 */
export function leafOf(
  forest: Forest,
  root: number,
  values: Float64Array | Float32Array,
  offset: number,
): number {
  const { feature, threshold, decisionType, left, right } = forest;
  let node = root;
  while (node >= 0) {
    let fval = values[offset + feature[node]!]!;
    const type = decisionType[node]!;
    let goLeft: boolean;
    if ((type & CATEGORICAL_MASK) !== 0) {
      // NaN fails both comparisons, so NaN, negative and beyond-int categories go right.
      goLeft = fval > -1 && fval < INT_LIMIT && inBitset(forest, node, Math.trunc(fval) | 0);
    } else {
      const missingType = (type >> 2) & 3;
      if (Number.isNaN(fval) && missingType !== MISSING_NAN) fval = 0;
      if (
        (missingType === MISSING_ZERO && fval >= -ZERO_THRESHOLD && fval <= ZERO_THRESHOLD) ||
        (missingType === MISSING_NAN && Number.isNaN(fval))
      ) {
        goLeft = (type & DEFAULT_LEFT_MASK) !== 0;
      } else {
        goLeft = fval <= threshold[node]!;
      }
    }
    node = goLeft ? left[node]! : right[node]!;
  }
  return ~node;
}

/**
 * Whether a non-negative category is in the node's bitset. Beyond-int values go right because C++'s
 * `static_cast<int>` is undefined there and yields INT_MIN (negative) on x86-64.
 */
function inBitset(forest: Forest, node: number, category: number): boolean {
  const word = category >>> 5;
  if (word >= forest.catLength[node]!) return false;
  return ((forest.catWords[forest.catStart[node]! + word]! >>> (category & 31)) & 1) === 1;
}

/**
 * Raw scores for `rows` rows of `featureCount` columns: `out[row * classes + k]` is the sum, in tree
 * order starting from 0, of trees `k, k + classes, ...`, as LightGBM's `GBDT::PredictRaw` adds them.
 */
export function predictRaw(
  forest: Forest,
  values: Float64Array | Float32Array,
  rows: number,
  featureCount: number,
  classes: number,
): Float64Array {
  const out = new Float64Array(rows * classes);
  const { roots, leafValue, treeCount } = forest;
  for (let row = 0; row < rows; row++) {
    const offset = row * featureCount;
    const base = row * classes;
    for (let tree = 0; tree < treeCount; tree++) {
      const k = base + (tree % classes);
      out[k] = out[k]! + leafValue[leafOf(forest, roots[tree]!, values, offset)]!;
    }
  }
  return out;
}
