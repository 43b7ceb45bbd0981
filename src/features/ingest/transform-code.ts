/**
 * How a TypeScript transform's stored text becomes a function. The text is `fn.toString()` of the
 * function given to `defineFeatureView` (JavaScript once tsx or tsc has compiled it): an arrow or
 * function expression, or a method (`transform(rows) {...}`). It is compiled alone, so it must be
 * self-contained; esbuild's `__name` helper (tsx, vitest) is the one outer name supplied.
 *
 * The worker runs as a plain ES module written to a temporary file, because a worker thread loads
 * JavaScript only: a `.ts` worker would not load under vitest, and `tsc` does not copy `.js` files
 * to `dist/`, so a module text shipped inside this compiled file works the same in both.
 */

/** The function bodies tried in order: an expression, then a method shorthand. */
const WRAPPERS = [
  (text: string) => `"use strict"; return (${text}\n);`,
  (text: string) => `"use strict"; return Object.values({ ${text}\n })[0];`,
];

/** Why the text cannot be parsed as a function, or undefined when it can (nothing is run). */
export function transformSyntaxProblem(text: string): string | undefined {
  let problem = '';
  for (const wrap of WRAPPERS) {
    try {
      new Function('__name', wrap(text));
      return undefined;
    } catch (err) {
      problem ||= err instanceof Error ? err.message : String(err);
    }
  }
  return problem;
}

/** The worker module piscina runs: compiles each (view, version) once, then maps batches of rows. */
export const TRANSFORM_WORKER_SOURCE = `
const compiled = new Map();
const keepName = (fn, name) => {
  try { Object.defineProperty(fn, 'name', { value: name, configurable: true }); } catch {}
  return fn;
};
const WRAPPERS = [
  (text) => '"use strict"; return (' + text + '\\n);',
  (text) => '"use strict"; return Object.values({ ' + text + '\\n })[0];',
];

function compile(text) {
  let firstError;
  for (const wrap of WRAPPERS) {
    let body;
    try {
      body = new Function('__name', wrap(text));
    } catch (err) {
      firstError ??= err;
      continue;
    }
    const fn = body(keepName);
    if (typeof fn !== 'function') throw new TypeError('the transform text evaluates to ' + typeof fn + ', not a function');
    return fn;
  }
  throw firstError;
}

const failure = (stage, err) => ({
  ok: false,
  stage,
  name: err instanceof Error ? err.name : 'Error',
  message: err instanceof Error ? err.message : String(err),
});

export default async function run({ key, text, rows, byView }) {
  let entry = compiled.get(key);
  if (!entry || entry.text !== text) {
    try {
      entry = { text, fn: compile(text) };
    } catch (err) {
      return failure('compile', err);
    }
    compiled.set(key, entry);
  }
  let out;
  try {
    out = await entry.fn(rows, byView);
  } catch (err) {
    return failure('run', err);
  }
  if (!Array.isArray(out)) return failure('output', new TypeError('it returned ' + (out === null ? 'null' : typeof out) + ', not an array of rows'));
  return { ok: true, rows: out };
}
`;
