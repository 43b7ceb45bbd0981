/**
 * XGBoost evaluates models in float32; the trainer's own predictions repeat those roundings (inputs,
 * weights and thresholds as float32, margins summed in float32), so the metrics it reports on a
 * holdout are the ones the served model will reproduce.
 */

/** Rounds to float32 and back: `Math.fround`, named for what it stands for here. */
export const f32 = Math.fround;

/** XGBoost's ProbToMargin for binary:logistic in float32: -log(1/p - 1). */
export function logitMargin(probability: number): number {
  const p = f32(probability);
  return f32(-f32(Math.log(f32(f32(1 / p) - 1))));
}

/** Sigmoid of a float32 margin, rounded to float32 as XGBoost answers it. */
export function sigmoid32(margin: number): number {
  return f32(1 / (Math.exp(-margin) + 1));
}

/** A float32 value as the shortest decimal that reads back to the same float32 (9 digits suffice). */
export function f32Json(value: number): number {
  return Number(f32(value).toPrecision(9));
}
