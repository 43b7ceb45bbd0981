/** The one error a LightGBM model file that cannot be served fails with. */
import { invalidArgument, type MeridianError } from '../../core/errors.js';

/** INVALID_ARGUMENT naming the file, what is wrong with it, and what a LightGBM text model looks like. */
export function badModel(problem: string): MeridianError {
  return invalidArgument(
    'file',
    `not a valid LightGBM text model: ${problem}`,
    'expected a model saved by LightGBM (`Booster.save_model("m.txt")` or the CLI `output_model`)',
  );
}
