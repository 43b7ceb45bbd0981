import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../../src/core/clock.js';
import { DEFAULT_ALERT_RULES } from '../../src/monitoring/alerts/default-rules.js';
import { serverAvailable } from '../helpers/servers.js';

const RULES_DIR = join(import.meta.dirname, '../../deploy/prometheus/rules');
const run = promisify(execFile);

interface PromRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

/** Runs promtool in the rules directory; resolves with its output, rejects with it on a non-zero exit. */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: RULES_DIR, timeout: 30_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

describe.runIf(serverAvailable('promtool'))('Prometheus alerting rules (deploy/prometheus/rules)', () => {
  it('pass promtool check rules', async () => {
    expect(await promtool('check', 'rules', 'meridian.yml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their promtool unit tests', async () => {
    expect(await promtool('test', 'rules', 'meridian.test.yml')).toContain('SUCCESS');
  });

  it('alert on the same conditions as the in-process default rules, by name, severity and for-duration', () => {
    const doc = parseYaml(readFileSync(join(RULES_DIR, 'meridian.yml'), 'utf8')) as {
      groups: { rules: PromRule[] }[];
    };
    const alerts = new Map(
      doc.groups.flatMap((g) => g.rules).flatMap((r) => (r.alert ? [[r.alert, r] as const] : [])),
    );
    for (const rule of DEFAULT_ALERT_RULES) {
      const prom = alerts.get(rule.name);
      expect(prom, `${rule.name} is in meridian.yml`).toBeDefined();
      expect(prom?.labels?.severity, rule.name).toBe(rule.severity);
      expect(parseDuration(prom?.for ?? '0s'), rule.name).toBe(rule.forMs);
      expect(prom?.expr, rule.name).toContain(String(rule.threshold));
    }
    expect([...alerts.keys()].sort()).toEqual(DEFAULT_ALERT_RULES.map((r) => r.name).sort());
  });
});
