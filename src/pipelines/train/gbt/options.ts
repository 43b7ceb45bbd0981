/** Hyperparameters of gradient-boosted trees, with XGBoost's names in the docs and its defaults. */
import { invalidArgument } from '../../../core/errors.js';

export type BoostObjective = 'binary:logistic' | 'reg:squarederror';

export interface BoostOptions {
  objective: BoostObjective;
  /** Boosting rounds (num_boost_round); default 100. */
  rounds?: number;
  /** eta; default 0.3. */
  learningRate?: number;
  /** max_depth; default 6. */
  maxDepth?: number;
  /** min_child_weight: least hessian sum in a child; default 1. */
  minChildWeight?: number;
  /** lambda (reg_lambda): L2 on leaf weights; default 1. */
  lambda?: number;
  /** gamma (min_split_loss): least loss reduction of a split; default 0. */
  gamma?: number;
  /** max_bin; default 256. */
  maxBin?: number;
  /** subsample: share of rows drawn (seeded, per round) for each tree; default 1. */
  subsample?: number;
  /** Seed of the row sampling; default 0. */
  seed?: number;
  /** base_score; default the training labels' mean (XGBoost 2's estimate; 1.7 defaults to 0.5). */
  baseScore?: number;
}

export type ResolvedBoostOptions = Required<Omit<BoostOptions, 'baseScore'>> & { baseScore?: number };

interface Rule {
  min: number;
  max: number;
  integer?: boolean;
  /** Whether `min` itself is excluded. */
  open?: boolean;
}

const RULES: Record<string, Rule> = {
  rounds: { min: 1, max: 100_000, integer: true },
  learningRate: { min: 0, max: 1, open: true },
  maxDepth: { min: 1, max: 20, integer: true },
  minChildWeight: { min: 0, max: Number.MAX_VALUE },
  lambda: { min: 0, max: Number.MAX_VALUE },
  gamma: { min: 0, max: Number.MAX_VALUE },
  maxBin: { min: 2, max: 65_536, integer: true },
  subsample: { min: 0, max: 1, open: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
};

const DEFAULTS = {
  rounds: 100,
  learningRate: 0.3,
  maxDepth: 6,
  minChildWeight: 1,
  lambda: 1,
  gamma: 0,
  maxBin: 256,
  subsample: 1,
  seed: 0,
};

/** Options with defaults applied; INVALID_ARGUMENT naming `options.<name>` when one is out of range. */
export function resolveBoostOptions(options: BoostOptions): ResolvedBoostOptions {
  if (options.objective !== 'binary:logistic' && options.objective !== 'reg:squarederror') {
    throw invalidArgument(
      'options.objective',
      `"${options.objective}" is not supported`,
      'use binary:logistic or reg:squarederror',
    );
  }
  const o = options;
  // A literal of fixed shape: the tree builder reads these in its inner loops.
  const resolved: ResolvedBoostOptions = {
    objective: o.objective,
    rounds: o.rounds ?? DEFAULTS.rounds,
    learningRate: o.learningRate ?? DEFAULTS.learningRate,
    maxDepth: o.maxDepth ?? DEFAULTS.maxDepth,
    minChildWeight: o.minChildWeight ?? DEFAULTS.minChildWeight,
    lambda: o.lambda ?? DEFAULTS.lambda,
    gamma: o.gamma ?? DEFAULTS.gamma,
    maxBin: o.maxBin ?? DEFAULTS.maxBin,
    subsample: o.subsample ?? DEFAULTS.subsample,
    seed: o.seed ?? DEFAULTS.seed,
    ...(o.baseScore !== undefined ? { baseScore: o.baseScore } : {}),
  };
  for (const [name, rule] of Object.entries(RULES)) {
    checkRule(name, resolved[name as keyof typeof DEFAULTS], rule);
  }
  return resolved;
}

function checkRule(name: string, value: number, rule: Rule): void {
  const tooLow = rule.open ? !(value > rule.min) : !(value >= rule.min);
  if (
    typeof value !== 'number' ||
    tooLow ||
    !(value <= rule.max) ||
    (rule.integer && !Number.isInteger(value))
  ) {
    const range = `${rule.open ? '(' : '['}${rule.min}, ${rule.max === Number.MAX_VALUE ? '∞)' : `${rule.max}]`}`;
    throw invalidArgument(
      `options.${name}`,
      `${value} is out of range`,
      `use ${rule.integer ? 'an integer' : 'a number'} in ${range}`,
    );
  }
}
