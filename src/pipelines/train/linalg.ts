/** Dense linear algebra for the small systems of Newton's method (a feature count squared). */
import { MeridianError } from '../../core/errors.js';

/**
 * Solves `a x = b` for a symmetric positive definite `a` (row-major n × n) by Cholesky
 * factorisation; `a` is overwritten by its factor.
 */
export function solveSpd(a: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j]!;
    for (let k = 0; k < j; k++) diag -= a[j * n + k]! ** 2;
    if (!(diag > 0)) {
      throw new MeridianError('INTERNAL', `the Hessian is not positive definite at column ${j}`);
    }
    const l = Math.sqrt(diag);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / l;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) x[i] = x[i]! - a[i * n + k]! * x[k]!;
    x[i] = x[i]! / a[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) x[i] = x[i]! - a[k * n + i]! * x[k]!;
    x[i] = x[i]! / a[i * n + i]!;
  }
  return x;
}
