/**
 * An alert instance and its lifecycle: pending (condition holds, for-duration not yet over) → firing →
 * resolved. One fingerprint (rule + labels) has at most one pending or firing instance; firing again
 * after a resolve is a new instance with a new id.
 */
import { createHash } from 'node:crypto';
import type { Severity } from './rule.js';

export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  /** 16 hex digits of sha256 over the rule name and the sorted labels. */
  fingerprint: string;
  rule: string;
  severity: Severity;
  state: AlertState;
  /** `alertname`, `severity` and the sample's labels. */
  labels: Record<string, string>;
  /** `summary`, `description`, `metric`, `threshold`. */
  annotations: Record<string, string>;
  /** The metric value that last changed the state. */
  value: number;
  /** When the condition started to hold (epoch ms). */
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
}

/** The dedup key of an alert: the same rule over the same labels is the same alert. */
export function alertFingerprint(rule: string, labels: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify([
    rule,
    Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
