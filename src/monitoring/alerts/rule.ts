/**
 * An alert rule: a metric, a comparison with a threshold, how long the comparison must hold before
 * the alert fires, a severity, and the labels a sample must carry for the rule to watch it.
 */
import { invalidArgument } from '../../core/errors.js';

export const CONDITIONS = ['>', '>=', '<', '<='] as const;
export type Condition = (typeof CONDITIONS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AlertRule {
  /** Unique rule name; becomes the `alertname` label. */
  name: string;
  /** The metric the rule watches, e.g. `meridian_dataset_drift_share`. */
  metric: string;
  condition: Condition;
  threshold: number;
  /** How long the condition must hold before the alert fires; 0 fires at once. */
  forMs: number;
  severity: Severity;
  /** Labels a sample must have, with these exact values (e.g. `{model: 'churn'}`); none matches all. */
  match?: Record<string, string>;
  /** A one-line description, sent as the `summary` annotation. */
  summary?: string;
  /** When the alert fires, retrain the models it affects (see retrain-hook.ts). */
  retrain?: boolean;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `value condition threshold` holds; NaN never does. */
export function conditionHolds(condition: Condition, value: number, threshold: number): boolean {
  switch (condition) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/** Whether a sample with these labels is one the rule watches. */
export function ruleMatches(rule: AlertRule, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(rule.match ?? {})) {
    if (labels[key] !== value) return false;
  }
  return true;
}

/** Throws INVALID_ARGUMENT naming the field unless rule is a well-formed AlertRule. */
export function checkRule(rule: unknown, at = 'rule'): AlertRule {
  if (typeof rule !== 'object' || rule === null) throw invalidArgument(at, 'must be an object');
  const r = rule as Partial<AlertRule>;
  if (typeof r.name !== 'string' || !NAME.test(r.name))
    throw invalidArgument(`${at}.name`, `${String(r.name)} is not a valid name`, 'use letters, digits and _');
  if (typeof r.metric !== 'string' || !NAME.test(r.metric))
    throw invalidArgument(
      `${at}.metric`,
      `${String(r.metric)} is not a metric name`,
      'use letters, digits and _',
    );
  if (!CONDITIONS.includes(r.condition as Condition))
    throw invalidArgument(
      `${at}.condition`,
      `${String(r.condition)} is not a condition`,
      'use >, >=, < or <=',
    );
  if (typeof r.threshold !== 'number' || !Number.isFinite(r.threshold))
    throw invalidArgument(`${at}.threshold`, 'must be a finite number');
  if (typeof r.forMs !== 'number' || !Number.isFinite(r.forMs) || r.forMs < 0)
    throw invalidArgument(`${at}.forMs`, 'must be a duration in milliseconds, 0 or more');
  if (!SEVERITIES.includes(r.severity as Severity))
    throw invalidArgument(
      `${at}.severity`,
      `${String(r.severity)} is not a severity`,
      'use info, warning or critical',
    );
  if (r.match !== undefined) checkLabels(r.match, `${at}.match`);
  return r as AlertRule;
}

/** Throws INVALID_ARGUMENT unless labels is an object of string values. */
export function checkLabels(labels: unknown, at: string): Record<string, string> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    throw invalidArgument(at, 'must be an object of label names to string values');
  for (const [key, value] of Object.entries(labels)) {
    if (!NAME.test(key)) throw invalidArgument(`${at}.${key}`, 'is not a valid label name');
    if (typeof value !== 'string') throw invalidArgument(`${at}.${key}`, 'must be a string');
  }
  return labels as Record<string, string>;
}

/** Throws INVALID_ARGUMENT unless rules are well-formed with unique names. */
export function checkRules(rules: unknown): AlertRule[] {
  if (!Array.isArray(rules)) throw invalidArgument('rules', 'must be an array of alert rules');
  const seen = new Set<string>();
  return rules.map((rule, i) => {
    const checked = checkRule(rule, `rules[${i}]`);
    if (seen.has(checked.name))
      throw invalidArgument(
        `rules[${i}].name`,
        `${checked.name} is used twice`,
        'give every rule its own name',
      );
    seen.add(checked.name);
    return checked;
  });
}
