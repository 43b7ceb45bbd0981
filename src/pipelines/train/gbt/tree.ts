/**
 * Grows one regression tree on gradients and hessians, level by level to `maxDepth` (XGBoost's
 * depthwise grow policy): every node of a level takes its best histogram split if it gains, else
 * becomes a leaf of weight -G / (H + lambda), scaled by the learning rate.
 */
import { f32 } from '../float32.js';
import { type BinnedMatrix, MISSING } from './bins.js';
import {
  bestSplit,
  buildHistogram,
  type HistogramPool,
  type Split,
  type SplitParams,
  subtractHistogram,
} from './histogram.js';

export interface GrowParams extends SplitParams {
  maxDepth: number;
  learningRate: number;
}

/** A tree in XGBoost's node-array layout; children -1 mark a leaf. */
export interface Tree {
  left: number[];
  right: number[];
  feature: number[];
  /** Global bin of a split (left gets bins <= it); -1 for a leaf. */
  bin: number[];
  /** A split's threshold (left when value < it) or a leaf's value; float32 values. */
  value: number[];
  defaultLeft: boolean[];
  gain: number[];
  sumHess: number[];
  /** Learning rate times the node's weight, a float32 value (a leaf's equals its value). */
  weight: number[];
}

/** Buffers shared by every tree of a fit. */
export interface Workspace {
  pool: HistogramPool;
  /** One slot per training row, for partitioning. */
  scratch: Int32Array;
}

interface Item {
  node: number;
  begin: number;
  end: number;
  grad: number;
  hess: number;
  hist: Float64Array;
}

/** Grows a tree on the rows `rows[0, count)` (reordered in place by node). */
export function growTree(
  m: BinnedMatrix,
  rows: Int32Array,
  count: number,
  grad: Float64Array,
  hess: Float64Array,
  p: GrowParams,
  work: Workspace,
): Tree {
  const tree: Tree = {
    left: [],
    right: [],
    feature: [],
    bin: [],
    value: [],
    defaultLeft: [],
    gain: [],
    sumHess: [],
    weight: [],
  };
  const root = sums(rows, count, grad, hess);
  const { pool, scratch } = work;
  const hist = pool.take();
  buildHistogram(hist, m, rows, 0, count, grad, hess);
  let level: Item[] = [{ node: addNode(tree, root.grad, root.hess, p), begin: 0, end: count, ...root, hist }];
  for (let depth = 0; depth < p.maxDepth && level.length > 0; depth++) {
    const next: Item[] = [];
    // Children at maxDepth are leaves: they need no histogram.
    const last = depth + 1 === p.maxDepth;
    for (const item of level) {
      const split = bestSplit(item.hist, m, item.grad, item.hess, p);
      if (split)
        next.push(...splitNode(tree, m, item, split, rows, scratch, grad, hess, p, last ? null : pool));
      if (!split || last) pool.give(item.hist);
    }
    level = last ? [] : next;
  }
  for (const item of level) pool.give(item.hist);
  return tree;
}

function sums(rows: Int32Array, count: number, grad: Float64Array, hess: Float64Array) {
  let g = 0;
  let h = 0;
  for (let i = 0; i < count; i++) {
    g += grad[rows[i]!]!;
    h += hess[rows[i]!]!;
  }
  return { grad: g, hess: h };
}

/** Appends a leaf with the weight of its sums; returns its index. */
function addNode(tree: Tree, grad: number, hess: number, p: GrowParams): number {
  const weight = f32(p.learningRate * (-grad / (hess + p.lambda)));
  tree.left.push(-1);
  tree.right.push(-1);
  tree.feature.push(0);
  tree.bin.push(-1);
  tree.value.push(weight);
  tree.defaultLeft.push(false);
  tree.gain.push(0);
  tree.sumHess.push(hess);
  tree.weight.push(weight);
  return tree.left.length - 1;
}

/** Turns a leaf into a split: partitions its rows, adds both children with their histograms. */
function splitNode(
  tree: Tree,
  m: BinnedMatrix,
  item: Item,
  split: Split,
  rows: Int32Array,
  scratch: Int32Array,
  grad: Float64Array,
  hess: Float64Array,
  p: GrowParams,
  pool: HistogramPool | null,
): Item[] {
  const mid = partition(m, split, rows, item.begin, item.end, scratch);
  const n = item.node;
  tree.feature[n] = split.feature;
  tree.bin[n] = split.bin;
  tree.value[n] = m.cuts[split.bin]!;
  tree.defaultLeft[n] = split.defaultLeft;
  tree.gain[n] = split.gain;
  const [lg, lh] = [split.leftGrad, split.leftHess];
  const [rg, rh] = [item.grad - lg, item.hess - lh];
  tree.left[n] = addNode(tree, lg, lh, p);
  tree.right[n] = addNode(tree, rg, rh, p);
  const left: Item = {
    node: tree.left[n]!,
    begin: item.begin,
    end: mid,
    grad: lg,
    hess: lh,
    hist: item.hist,
  };
  const right: Item = {
    node: tree.right[n]!,
    begin: mid,
    end: item.end,
    grad: rg,
    hess: rh,
    hist: item.hist,
  };
  if (!pool) return [left, right];
  const [small, large] = mid - item.begin <= item.end - mid ? [left, right] : [right, left];
  small.hist = pool.take();
  buildHistogram(small.hist, m, rows, small.begin, small.end, grad, hess);
  subtractHistogram(large.hist, item.hist, small.hist);
  return [left, right];
}

/** Stable partition of `rows[begin, end)`: the rows going left first; returns where the right ones start. */
function partition(
  m: BinnedMatrix,
  split: Split,
  rows: Int32Array,
  begin: number,
  end: number,
  scratch: Int32Array,
): number {
  const d = m.featureCount;
  let l = begin;
  let r = 0;
  for (let i = begin; i < end; i++) {
    const row = rows[i]!;
    const b = m.bins[row * d + split.feature]!;
    const goesLeft = b === MISSING ? split.defaultLeft : b <= split.bin;
    if (goesLeft) rows[l++] = row;
    else scratch[r++] = row;
  }
  rows.set(scratch.subarray(0, r), l);
  return l;
}

/** The leaf value a binned row reaches. */
export function leafOfBinned(tree: Tree, m: BinnedMatrix, row: number): number {
  const base = row * m.featureCount;
  let node = 0;
  while (tree.left[node] !== -1) {
    const b = m.bins[base + tree.feature[node]!]!;
    const goesLeft = b === MISSING ? tree.defaultLeft[node]! : b <= tree.bin[node]!;
    node = goesLeft ? tree.left[node]! : tree.right[node]!;
  }
  return tree.value[node]!;
}
