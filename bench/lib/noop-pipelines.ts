/**
 * The no-op pipelines of bench/pipelines.ts, loaded by its `meridian worker` processes too:
 * `bench-fanout` has BENCH_RUN_WIDTH independent steps (default 100), `bench-dispatch` 1000
 * (BENCH_DISPATCH_WIDTH). Steps do nothing, so a step's time is the engine's.
 */
import { definePipeline } from '../../src/pipelines/define.js';
import type { Pipeline, Step } from '../../src/pipelines/types.js';

export const RUN_WIDTH = Number(process.env.BENCH_RUN_WIDTH ?? 100);
export const DISPATCH_WIDTH = Number(process.env.BENCH_DISPATCH_WIDTH ?? 1000);

function noopSteps(width: number): Step[] {
  return Array.from({ length: width }, (_, i) => ({
    name: `s${String(i).padStart(5, '0')}`,
    run: async () => ({}),
  }));
}

function noopPipeline(name: string, width: number): Pipeline {
  return definePipeline({ name, params: { n: { type: 'integer', default: 0 } }, steps: noopSteps(width) });
}

export const benchFanout = noopPipeline('bench-fanout', RUN_WIDTH);
export const benchDispatch = noopPipeline('bench-dispatch', DISPATCH_WIDTH);
