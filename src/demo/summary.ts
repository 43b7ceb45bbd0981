/** The demo's closing report as text for people (the `--json` form is the summary object itself). */
import { dirname } from 'node:path';
import type { ColumnDrift } from '../monitoring/drift/types.js';
import type { DriftStepReport } from './drift.js';
import type { RetrainReport } from './retrain.js';
import type { DemoSummary } from './run.js';

/** The summary as a short plain-text report. */
export function formatSummary(s: DemoSummary): string {
  const lines: string[] = [];
  const seconds = (s.durationMs / 1000).toFixed(1);
  lines.push(
    `Meridian demo: ${seconds}s${s.stoppedEarly ? ' (stopped early)' : ''}, ${s.users} users, ` +
      `target ${s.targetRate} events/s from ${s.producers} producers, seed ${s.seed}`,
  );
  lines.push('', 'Ingestion');
  for (const [path, t] of Object.entries(s.paths)) {
    lines.push(
      `  ${path.padEnd(5)} ${t.sent} events sent, ${t.requests} requests answered 200: ` +
        `${t.accepted} stored, ${t.duplicates} duplicates dropped, ${t.rejected} rejected, ${t.failed} failed`,
    );
  }
  lines.push(`  offline rows of source "activity" (every run in ${s.dataDir}): ${s.offlineRows}`);
  lines.push(`  online entities: ${s.onlineEntities} of ${s.users} users`);
  if (s.rejections.length > 0) {
    lines.push('', 'Rejected events (push: 400 answers; file: rows kept in quarantine)');
    for (const r of s.rejections)
      lines.push(`  ${String(r.count).padStart(5)} x ${r.field}, e.g. ${r.example}`);
  }
  if (s.failures.length > 0) {
    lines.push('', 'Failed requests');
    for (const f of s.failures) lines.push(`  ${String(f.count).padStart(5)} events: ${f.reason}`);
  }
  const t = s.trainingSet;
  lines.push(
    '',
    `Point-in-time training set (feature service "${t.featureService}")`,
    `  ${t.rows} rows for ${t.requested} entity rows; ${t.rowsWithFeatures} with feature values`,
    `  non-null per feature: ${Object.entries(t.nonNullByFeature)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ')}`,
    '  first rows:',
    ...table(t.sample).map((row) => `    ${row}`),
  );
  lines.push(...modelLines(s), ...driftLines(s.drift), ...retrainLines(s.retrain));
  return `${lines.join('\n')}\n`;
}

function modelLines(s: DemoSummary): string[] {
  const { model: m, predictions: p } = s;
  const x = m.metrics;
  const auc = x.holdoutAuc === null ? 'n/a (one class)' : x.holdoutAuc.toFixed(3);
  const l = p.latencyMs;
  return [
    '',
    `Churn model "${m.name}" version ${m.version} (${m.stage}), XGBoost ${x.xgboost}, ${x.trees} trees of depth ${x.maxDepth}`,
    `  trained on ${x.trainRows} point-in-time rows of "${m.featureService}", held out the ${x.holdoutRows} latest ` +
      `(from ${x.holdoutFrom}); synthetic label, ${(x.positiveRate * 100).toFixed(1)}% churned`,
    `  holdout AUC ${auc}, logloss ${x.holdoutLogloss} (always the base rate: ${x.baselineLogloss})`,
    `  inputs ${x.inputs.join(', ')}; missing values NaN`,
    `  trained, pushed, promoted and ready in ${(m.elapsedMs / 1000).toFixed(1)}s; files in ${dirname(m.modelFile)}`,
    '',
    `Hydrated predictions (POST /v1/models/${p.model}/predict, ${p.usersPerRequest} users a request, ` +
      `${p.concurrency} concurrent clients in the demo's process)`,
    `  ${p.requests} requests, ${p.errors} errors in ${(p.durationMs / 1000).toFixed(1)}s: ` +
      `${p.throughput} requests/s, ${p.predictionsPerSecond} users scored/s`,
    `  latency p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms; ` +
      `mean churn probability ${p.meanChurnProbability}`,
    ...p.errorExamples.map((e) => `  error: ${e}`),
  ];
}

function driftLines(d: DriftStepReport): string[] {
  const lines = [
    '',
    `Drift (baseline: the training set, ${d.baseline.rows} rows with the model's ${d.baseline.prediction})`,
    `  shift after the load: ${d.shift.categorical}; ${d.shift.numeric}; expected to move ${d.shift.drifting.join(', ')}`,
    `  ${d.shiftedEvents} shifted events pushed, ${d.predicted} users predicted again (${d.predictErrors} failed); ` +
      `window ${d.window.from} - ${d.window.to}: ${d.rows} rows, ${d.status} (step took ${(d.elapsedMs / 1000).toFixed(1)}s)`,
  ];
  if (d.status === 'insufficient_data') {
    lines.push(`  fewer than ${d.minRows} rows: not compared (run with more --users)`);
  } else {
    const share = ((d.driftShare ?? 0) * 100).toFixed(0);
    lines.push(`  dataset drift ${d.datasetDrift ? 'yes' : 'no'} (${share}% of the features drifted)`);
    const columns: [string, ColumnDrift][] = [
      ...Object.entries(d.features),
      ...(d.prediction
        ? [[`${d.prediction.column} (prediction)`, d.prediction] as [string, ColumnDrift]]
        : []),
    ];
    const width = Math.max(...columns.map(([name]) => name.length));
    for (const [name, c] of columns) lines.push(`  ${name.padEnd(width)}  ${driftCell(c)}`);
  }
  lines.push(d.alerts.length === 0 ? '  firing alerts: none' : '  firing alerts:');
  for (const a of d.alerts) {
    lines.push(`    ${a.rule} (${a.severity})${a.feature ? ` on ${a.feature}` : ''}, value ${a.value}`);
  }
  return lines;
}

function driftCell(c: ColumnDrift): string {
  const p = c.pValue === null ? '' : `, p ${c.pValue.toPrecision(3)}`;
  const rule = c.pValue === null ? `>= ${c.threshold}` : `p < ${c.threshold}`;
  return `${c.method} ${c.score.toFixed(4)}${p} (drift at ${rule}): ${c.drifted ? 'DRIFT' : 'no drift'} [${c.status}]`;
}

function score(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(4);
}

function retrainLines(r: RetrainReport | null): string[] {
  if (!r) return ['', 'Retraining: no alert asking for it fired'];
  const lines = [
    '',
    `Retraining (pipeline train, run ${r.runId}, ${r.status}, started by the drift alert: ${r.reason})`,
    ...r.steps.map(
      (s) =>
        `  ${s.name.padEnd(12)}  ${s.status.padEnd(9)}  attempts ${s.attempts}  ${s.durationMs === null ? '' : `${(s.durationMs / 1000).toFixed(1)}s`}`,
    ),
  ];
  const d = r.decision;
  if (d) {
    const production = d.productionVersion === null ? 'none' : `version ${d.productionVersion}`;
    lines.push(
      `  same holdout (the latest rows, after the shift), scored through the model server: ${d.metric} ` +
        `candidate version ${d.candidateVersion} ${score(d.candidate)}, production ${production} ${score(d.production)}`,
      `  decision: ${d.decision} (${d.reason})`,
    );
  }
  if (r.error) lines.push(`  error: ${r.error}`);
  return lines;
}

function table(rows: Record<string, unknown>[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const columns = Object.keys(rows[0]!);
  const cells = [columns, ...rows.map((row) => columns.map((c) => cell(row[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
