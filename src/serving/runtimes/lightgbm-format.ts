/**
 * Parses and validates LightGBM's text model format (`Booster.save_model('m.txt')`, the CLI's
 * `output_model`): the header, then one `Tree=` block per tree up to `end of trees`. Everything the
 * evaluator relies on is checked here (array lengths, child indices, category bitsets), so a model
 * that parses can be walked without bounds checks and a bad file is rejected at push time.
 */
import { badModel } from './lightgbm-bad-model.js';
import { type LightgbmTree, parseTree } from './lightgbm-tree-format.js';

export type { LightgbmTree } from './lightgbm-tree-format.js';

/** `objective=binary sigmoid:1` as name, `key:value` parameters and bare flags (`regression sqrt`). */
export interface LightgbmObjective {
  name: string;
  params: Record<string, string>;
  flags: string[];
}

/** A LightGBM text model as written, validated. */
export interface LightgbmModelText {
  version: string;
  numClass: number;
  numTreePerIteration: number;
  /** Number of input columns: `max_feature_idx + 1`. */
  featureCount: number;
  featureNames?: string[];
  /** Absent when the model was trained with a custom objective (raw scores are the output). */
  objective?: LightgbmObjective;
  /** Random-forest mode: the raw score is the mean over iterations, not the sum. */
  averageOutput: boolean;
  trees: LightgbmTree[];
}

const SUPPORTED_VERSIONS = new Set(['v2', 'v3', 'v4']);
const END_OF_TREES = 'end of trees';

/** Decodes the bytes as UTF-8 text, rejecting binary data. */
export function decodeModelText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badModel('the file is not UTF-8 text');
  }
}

/** Parses and validates a LightGBM text model. */
export function parseLightgbmModel(text: string): LightgbmModelText {
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0 || lines[first]!.trim() !== 'tree') {
    const start = first < 0 ? '' : lines[first]!.trim();
    const looksJson = start.startsWith('{') || start.startsWith('[');
    throw badModel(
      first < 0
        ? 'the file is empty'
        : `the first line must be \`tree\`${looksJson ? ' (this looks like JSON, e.g. an XGBoost model: push it with --format xgboost)' : ''}`,
    );
  }
  const end = lines.indexOf(END_OF_TREES, first);
  if (end < 0) throw badModel(`no \`${END_OF_TREES}\` line: the file is truncated or not a LightGBM model`);
  const blocks = splitBlocks(lines.slice(first + 1, end));
  const header = readHeader(blocks.header);
  const trees = blocks.trees.map((block, index) => parseTree(block, index, header.featureCount));
  checkTreeCount(header, trees.length, blocks.treeSizes);
  return { ...header, trees };
}

type KeyValues = Map<string, string>;

interface Blocks {
  header: KeyValues;
  trees: KeyValues[];
  treeSizes?: string;
}

function splitBlocks(lines: string[]): Blocks {
  const header: KeyValues = new Map();
  const trees: KeyValues[] = [];
  let current = header;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 1);
    if (key === 'Tree') {
      if (value !== String(trees.length))
        throw badModel(`expected \`Tree=${trees.length}\`, found \`${line}\``);
      current = new Map();
      trees.push(current);
      continue;
    }
    if (current.has(key))
      throw badModel(
        `\`${key}\` appears twice in ${current === header ? 'the header' : `Tree=${trees.length - 1}`}`,
      );
    current.set(key, value);
  }
  return { header, trees, treeSizes: header.get('tree_sizes') };
}

function readHeader(kv: KeyValues): Omit<LightgbmModelText, 'trees'> {
  const version = kv.get('version');
  if (version === undefined || !SUPPORTED_VERSIONS.has(version)) {
    throw badModel(
      `\`version=\` must be one of ${[...SUPPORTED_VERSIONS].join(', ')}, found ${version ?? 'none'}`,
    );
  }
  const numClass = headerInt(kv, 'num_class', 1);
  const numTreePerIteration = headerInt(kv, 'num_tree_per_iteration', 1);
  if (numTreePerIteration !== numClass) {
    throw badModel(`num_tree_per_iteration=${numTreePerIteration} must equal num_class=${numClass}`);
  }
  const featureCount = headerInt(kv, 'max_feature_idx', 0) + 1;
  const featureNames = listOf(kv, 'feature_names', featureCount);
  listOf(kv, 'feature_infos', featureCount);
  const objectiveText = kv.get('objective');
  return {
    version,
    numClass,
    numTreePerIteration,
    featureCount,
    ...(featureNames ? { featureNames } : {}),
    ...(objectiveText !== undefined ? { objective: parseObjective(objectiveText) } : {}),
    averageOutput: kv.has('average_output'),
  };
}

function headerInt(kv: KeyValues, key: string, min: number): number {
  const text = kv.get(key);
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(value) || value < min) {
    throw badModel(`the header needs \`${key}=\` as an integer >= ${min}, found ${text ?? 'none'}`);
  }
  return value;
}

function listOf(kv: KeyValues, key: string, count: number): string[] | undefined {
  const text = kv.get(key);
  if (text === undefined) return undefined;
  const items = text.split(' ');
  if (items.length !== count || items.some((item) => item === '')) {
    throw badModel(`\`${key}=\` lists ${items.length} entries but max_feature_idx says ${count} features`);
  }
  return items;
}

function parseObjective(text: string): LightgbmObjective {
  const [name, ...rest] = text.trim().split(/\s+/);
  if (!name) throw badModel('`objective=` is empty');
  const params: Record<string, string> = {};
  const flags: string[] = [];
  for (const token of rest) {
    const colon = token.indexOf(':');
    if (colon < 0) flags.push(token);
    else params[token.slice(0, colon)] = token.slice(colon + 1);
  }
  return { name, params, flags };
}

function checkTreeCount(header: Omit<LightgbmModelText, 'trees'>, count: number, treeSizes?: string): void {
  if (count === 0) throw badModel('the model has no trees');
  if (count % header.numTreePerIteration !== 0) {
    throw badModel(
      `${count} trees is not a multiple of num_tree_per_iteration=${header.numTreePerIteration}`,
    );
  }
  if (treeSizes !== undefined && treeSizes.split(' ').length !== count) {
    throw badModel(`tree_sizes lists ${treeSizes.split(' ').length} trees but the file has ${count}`);
  }
}
