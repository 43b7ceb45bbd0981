/** The demo's closing report as text for people (the `--json` form is the summary object itself). */
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
  return `${lines.join('\n')}\n`;
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
