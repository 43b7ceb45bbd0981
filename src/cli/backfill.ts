/**
 * `meridian pipelines backfill <name> --from --to`: one run per tick of the pipeline's schedule in
 * [from, to), at most `concurrency` unfinished at once, over the server's REST API. A tick whose key
 * already has a completed run is skipped (the trigger answers it); one with a failed run is run
 * again. Runs already started keep going if the command stops; running it again picks up the rest.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidArgument } from '../core/errors.js';
import type { PipelineDescription } from '../pipelines/describe.js';
import { backfillTicks } from '../pipelines/schedule.js';
import type { RunStatus, RunView, TriggerResult } from '../pipelines/types.js';
import { request } from './rest.js';

export interface BackfillOptions {
  url: string;
  from: Date;
  to: Date;
  concurrency: number;
  params?: Record<string, unknown>;
  pollMs?: number;
  onRun?: (tick: Date, result: TriggerResult) => void;
}

export interface BackfillTotals {
  intervals: number;
  skipped: number;
  completed: number;
  failed: string[];
}

const done = (status: RunStatus) => status === 'COMPLETED' || status === 'FAILED';

async function pipelineSchedule(url: string, name: string) {
  const { pipelines } = await request<{ pipelines: PipelineDescription[] }>(url, 'GET', '/v1/pipelines');
  const pipeline = pipelines.find((p) => p.name === name);
  if (!pipeline)
    throw invalidArgument('name', `no pipeline ${JSON.stringify(name)}`, 'see meridian pipelines list');
  if (!pipeline.schedule) {
    throw invalidArgument(
      'name',
      `pipeline ${JSON.stringify(name)} has no schedule to take intervals from`,
      'give it a schedule, or trigger runs one by one with --date',
    );
  }
  return pipeline.schedule;
}

/** Runs the backfill to the end; answers the totals. */
export async function backfill(name: string, options: BackfillOptions): Promise<BackfillTotals> {
  const ticks = backfillTicks(await pipelineSchedule(options.url, name), options.from, options.to);
  const totals: BackfillTotals = { intervals: ticks.length, skipped: 0, completed: 0, failed: [] };
  const running = new Map<string, Date>();
  const trigger = `/v1/pipelines/${encodeURIComponent(name)}/runs`;
  for (let next = 0; next < ticks.length || running.size > 0; ) {
    while (next < ticks.length && running.size < options.concurrency) {
      const tick = ticks[next++]!;
      const result = await request<TriggerResult>(options.url, 'POST', trigger, {
        logicalDate: tick.toISOString(),
        ...(options.params ? { params: options.params } : {}),
      });
      options.onRun?.(tick, result);
      if (!result.created && result.status === 'COMPLETED') totals.skipped++;
      else running.set(result.runId, tick);
    }
    if (running.size === 0) continue;
    await sleep(options.pollMs ?? 500);
    for (const runId of [...running.keys()]) {
      const run = await request<RunView>(options.url, 'GET', `/v1/runs/${runId}`);
      if (!done(run.status)) continue;
      running.delete(runId);
      if (run.status === 'COMPLETED') totals.completed++;
      else totals.failed.push(`${run.logicalDate} (run ${runId}): ${run.error ?? 'failed'}`);
    }
  }
  return totals;
}
