/**
 * `meridian pipelines list|trigger|backfill` and `meridian runs list|show|logs|resume`: the
 * orchestrator of a running server, over its REST API.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import type { PipelineDescription } from '../pipelines/describe.js';
import type { LogLine, RunView, TriggerResult } from '../pipelines/types.js';
import { backfill } from './backfill.js';
import { DEFAULT_URL, parseJson, request } from './rest.js';
import { table } from './table.js';

const write = (text: string) => process.stdout.write(text);

function parseParams(value: string): Record<string, unknown> {
  const parsed = parseJson(value);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object of parameters, e.g. {"model": "churn"}');
  }
  return parsed as Record<string, unknown>;
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2026-01-01T00:00:00Z');
  return date;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

function runsTable(runs: RunView[]): string {
  const rows = runs.map((r) => [r.runId, r.pipeline, r.status, r.logicalDate, r.trigger.kind, r.error ?? '']);
  return table([['RUN', 'PIPELINE', 'STATUS', 'LOGICAL DATE', 'TRIGGER', 'ERROR'], ...rows]);
}

function runText(run: RunView): string {
  const head = `run ${run.runId}: ${run.pipeline} ${run.status} (logical date ${run.logicalDate}, ${run.trigger.kind})\n`;
  const steps = run.steps.map((s) => [
    s.name,
    s.status,
    String(s.attempts),
    s.durationMs === null ? '' : `${(s.durationMs / 1000).toFixed(1)} s`,
    s.error ?? '',
  ]);
  const error = run.error ? `error: ${run.error}\n` : '';
  return head + table([['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'ERROR'], ...steps]) + error;
}

const logText = (lines: LogLine[]) =>
  lines
    .map((l) => `${l.time} ${l.step}#${l.attempt} ${l.stream === 'log' ? '' : `[${l.stream}] `}${l.line}\n`)
    .join('');

/** Registers `pipelines` and its subcommands on the program. */
export function registerPipelineCommands(program: Command): void {
  const pipelines = program.command('pipelines').description('pipeline definitions: list, trigger, backfill');
  pipelines
    .command('list')
    .description('the pipelines the server knows, with their schedules and steps')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (flags: { url: string }) => {
      const { pipelines: list } = await request<{ pipelines: PipelineDescription[] }>(
        flags.url,
        'GET',
        '/v1/pipelines',
      );
      const rows = list.map((p) => [
        p.name,
        p.schedule ? `${p.schedule.cron}${p.schedule.timezone ? ` (${p.schedule.timezone})` : ''}` : '',
        p.steps.map((s) => s.name).join(' -> '),
      ]);
      write(list.length === 0 ? 'no pipelines\n' : table([['PIPELINE', 'SCHEDULE', 'STEPS'], ...rows]));
    });
  pipelines
    .command('trigger')
    .description('start a run (or show the run its idempotency key already has)')
    .argument('<name>', 'the pipeline')
    .option('--params <json>', 'parameters as a JSON object', parseParams)
    .option('--date <iso>', 'the logical date (default now)', parseDate)
    .option('--force', 'start a new run even when the key already has one running or completed')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(
      async (
        name: string,
        flags: { params?: Record<string, unknown>; date?: Date; force?: boolean; url: string },
      ) => {
        const result = await request<TriggerResult>(
          flags.url,
          'POST',
          `/v1/pipelines/${encodeURIComponent(name)}/runs`,
          {
            ...(flags.params ? { params: flags.params } : {}),
            ...(flags.date ? { logicalDate: flags.date.toISOString() } : {}),
            ...(flags.force ? { force: true } : {}),
          },
        );
        write(`${result.created ? 'started' : 'already had'} run ${result.runId} (${result.status})\n`);
      },
    );
  pipelines
    .command('backfill')
    .description('one run per schedule interval in [from, to), skipping intervals that already succeeded')
    .argument('<name>', 'the pipeline')
    .requiredOption('--from <iso>', 'first interval (inclusive)', parseDate)
    .requiredOption('--to <iso>', 'end of the range (exclusive)', parseDate)
    .option('--concurrency <n>', 'runs unfinished at once', parseCount, 4)
    .option('--params <json>', 'parameters as a JSON object', parseParams)
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(
      async (
        name: string,
        flags: { from: Date; to: Date; concurrency: number; params?: Record<string, unknown>; url: string },
      ) => {
        const totals = await backfill(name, {
          ...flags,
          onRun: (tick, r) =>
            write(
              `${tick.toISOString()}  ${r.created ? 'started' : r.status === 'COMPLETED' ? 'skipped (completed)' : 'running'}  ${r.runId}\n`,
            ),
        });
        write(
          `${totals.intervals} intervals: ${totals.completed} completed, ${totals.skipped} skipped, ${totals.failed.length} failed\n`,
        );
        for (const failure of totals.failed) write(`failed: ${failure}\n`);
        if (totals.failed.length > 0) process.exitCode = 1;
      },
    );
  registerRunCommands(program);
}

function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('pipeline runs: list, show, logs, resume');
  runs
    .command('list')
    .description('runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--status <status>', 'only runs in this status (PENDING, RUNNING, COMPLETED, FAILED)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (flags: { pipeline?: string; status?: string; limit: string; url: string }) => {
      const query = new URLSearchParams({ limit: flags.limit });
      if (flags.pipeline) query.set('pipeline', flags.pipeline);
      if (flags.status) query.set('status', flags.status);
      const { runs: list } = await request<{ runs: RunView[] }>(flags.url, 'GET', `/v1/runs?${query}`);
      write(list.length === 0 ? 'no runs\n' : runsTable(list));
    });
  runs
    .command('show')
    .description('a run with its steps, attempts, durations and errors')
    .argument('<run>', 'the run id')
    .option('--json', 'print the run as JSON')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (runId: string, flags: { json?: boolean; url: string }) => {
      const run = await request<RunView>(flags.url, 'GET', `/v1/runs/${encodeURIComponent(runId)}`);
      write(flags.json ? `${JSON.stringify(run, null, 2)}\n` : runText(run));
    });
  runs
    .command('logs')
    .description("a run's log")
    .argument('<run>', 'the run id')
    .option('--step <name>', 'only this step')
    .option('--follow', 'keep printing new lines until the run ends')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (runId: string, flags: { step?: string; follow?: boolean; url: string }) => {
      await printLogs(runId, flags);
    });
  runs
    .command('resume')
    .description("rerun a failed run's failed and later steps (completed steps keep their outputs)")
    .argument('<run>', 'the run id')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (runId: string, flags: { url: string }) => {
      const run = await request<RunView>(flags.url, 'POST', `/v1/runs/${encodeURIComponent(runId)}/resume`);
      write(runText(run));
    });
}

async function printLogs(
  runId: string,
  flags: { step?: string; follow?: boolean; url: string },
): Promise<void> {
  const path = `/v1/runs/${encodeURIComponent(runId)}`;
  let after = 0;
  const printNew = async () => {
    const query = new URLSearchParams({ after: String(after) });
    if (flags.step) query.set('step', flags.step);
    const { lines } = await request<{ lines: LogLine[] }>(flags.url, 'GET', `${path}/logs?${query}`);
    write(logText(lines));
    after = lines.at(-1)?.seq ?? after;
    return lines.length;
  };
  if ((await printNew()) > 0 && !flags.follow) return;
  while (flags.follow) {
    const run = await request<RunView>(flags.url, 'GET', path);
    // Lines written before the run ended are read once more after seeing it end.
    const ended = run.status === 'COMPLETED' || run.status === 'FAILED';
    if ((await printNew()) === 0 && !ended) await sleep(1000);
    if (ended) return;
  }
}
