/** Per-step timestamps (ms) of one bench scenario, summarized: throughput and ready->started delays. */
import type { PipelineOrchestrator } from '../../src/pipelines/orchestrator.js';
import type { StateStore } from '../../src/stores/state/port.js';

export interface StepTimes {
  ready: number | string;
  started: number | string;
  finished: number | string;
}

export interface Timing {
  steps: number;
  /** Steps / (last finished - first ready). */
  perSecond: number;
  /** Ready->started delay percentiles, ms. */
  p50: number;
  p99: number;
  /** From the first step ready until the last one started / finished, ms. */
  lastStartedMs: number;
  lastFinishedMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The timing of a scenario from its steps' times. */
export function summarize(rows: readonly StepTimes[]): Timing {
  const times = rows.map((r) => ({
    ready: Number(r.ready),
    started: Number(r.started),
    finished: Number(r.finished),
  }));
  const first = Math.min(...times.map((t) => t.ready));
  const lastStarted = Math.max(...times.map((t) => t.started));
  const lastFinished = Math.max(...times.map((t) => t.finished));
  const delays = times.map((t) => t.started - t.ready).sort((a, b) => a - b);
  return {
    steps: times.length,
    perSecond: times.length / ((lastFinished - first) / 1000),
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    lastStartedMs: lastStarted - first,
    lastFinishedMs: lastFinished - first,
  };
}

/** One line of the table. */
export interface Row extends Timing {
  store: string;
  scenario: string;
  system: string;
}

async function waitUntil(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 50));
}

/** Triggers `runs` runs of the pipeline one after another and answers the steps' timings once all completed. */
export async function meridianScenario(
  orchestrator: PipelineOrchestrator,
  state: StateStore,
  pipeline: string,
  runs: number,
): Promise<Timing> {
  const runIds: string[] = [];
  const logicalDate = new Date();
  for (let n = 0; n < runs; n++) {
    runIds.push((await orchestrator.trigger(pipeline, { params: { n }, logicalDate })).runId);
  }
  await waitUntil(async () => {
    const { rows } = await state.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM pipeline_runs WHERE run_id = ANY ($1::text[]) AND status <> 'COMPLETED'`,
      [runIds],
    );
    return rows[0]!.open === 0;
  });
  const { rows } = await state.query<{ ready: number; started: number; finished: number }>(
    `SELECT extract(epoch FROM s.queued_at) * 1000 AS ready, extract(epoch FROM s.started_at) * 1000 AS started,
       extract(epoch FROM s.finished_at) * 1000 AS finished
     FROM pipeline_steps s WHERE s.run_id = ANY ($1::text[])`,
    [runIds],
  );
  return summarize(rows);
}
