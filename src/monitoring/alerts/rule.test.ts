import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { DEFAULT_ALERT_RULES } from './default-rules.js';
import { type AlertRule, checkRule, checkRules, conditionHolds, ruleMatches } from './rule.js';

const rule: AlertRule = { name: 'R', metric: 'm', condition: '>', threshold: 1, forMs: 0, severity: 'info' };

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeridianError);
    expect((err as MeridianError).code).toBe('INVALID_ARGUMENT');
    return (err as MeridianError).details.field;
  }
  return undefined;
}

describe('alert rules', () => {
  it('compares with each condition, the threshold itself included only by >= and <=', () => {
    expect([conditionHolds('>', 1, 1), conditionHolds('>=', 1, 1)]).toEqual([false, true]);
    expect([conditionHolds('<', 1, 1), conditionHolds('<=', 1, 1)]).toEqual([false, true]);
    expect([conditionHolds('>', 2, 1), conditionHolds('<', 0, 1)]).toEqual([true, true]);
  });

  it('never holds for NaN', () => {
    for (const c of ['>', '>=', '<', '<='] as const) expect(conditionHolds(c, Number.NaN, 0)).toBe(false);
  });

  it('matches only samples carrying every match label with its value', () => {
    const r = { ...rule, match: { model: 'churn', version: '2' } };
    expect(ruleMatches(r, { model: 'churn', version: '2', feature: 'age' })).toBe(true);
    expect(ruleMatches(r, { model: 'churn', version: '3' })).toBe(false);
    expect(ruleMatches(r, { model: 'churn' })).toBe(false);
    expect(ruleMatches(rule, {})).toBe(true);
  });

  it('names the field of a malformed rule', () => {
    expect(fieldOf(() => checkRule({ ...rule, name: 'has space' }))).toBe('rule.name');
    expect(fieldOf(() => checkRule({ ...rule, threshold: Number.POSITIVE_INFINITY }))).toBe('rule.threshold');
    expect(fieldOf(() => checkRule({ ...rule, forMs: -1 }))).toBe('rule.forMs');
    expect(fieldOf(() => checkRule({ ...rule, severity: 'page' }))).toBe('rule.severity');
    expect(fieldOf(() => checkRule({ ...rule, match: { model: 1 } }))).toBe('rule.match.model');
    expect(fieldOf(() => checkRules([rule, rule]))).toBe('rules[1].name');
  });

  it('ships default rules that are well-formed', () => {
    expect(checkRules([...DEFAULT_ALERT_RULES]).map((r) => r.name)).toEqual([
      'MeridianDatasetDrift',
      'MeridianFeatureDrift',
      'MeridianPerformanceDrop',
      'MeridianFeatureFreshnessSLO',
      'MeridianServingErrorRate',
    ]);
  });
});
