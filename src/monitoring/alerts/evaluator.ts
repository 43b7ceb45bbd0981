/**
 * Drives alert lifecycles from observed metric samples. Per rule and per series (rule + labels, the
 * fingerprint): the condition starting to hold makes a pending alert (firing at once when the rule
 * has no for-duration); still holding once the for-duration has passed fires it; no longer holding
 * resolves a firing alert and discards a pending one. A firing alert is never fired twice; holding
 * again after a resolve is a new alert. A series not observed for `staleAfterMs` counts as not holding.
 * Time is the clock's: samples carry their own time only to ignore ones older than already seen.
 */

import { DEFAULT_ALERTS_CONFIG } from '../../core/alerts-config.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { type Alert, type AlertState, alertFingerprint } from './alert.js';
import type { AlertStore } from './alert-store.js';
import { DEFAULT_ALERT_RULES } from './default-rules.js';
import type { RetrainHook } from './retrain-hook.js';
import { type AlertRule, checkLabels, checkRules, conditionHolds, ruleMatches } from './rule.js';
import type { AlertNotifier } from './webhook-notifier.js';

/** One observation of a metric series. */
export interface MetricSample {
  metric: string;
  labels: Record<string, string>;
  value: number;
  /** When it was observed, epoch ms. */
  time: number;
}

export interface AlertTransition {
  alert: Alert;
  from: AlertState | 'inactive';
  /** `discarded`: a pending alert whose condition stopped holding before it fired. */
  to: AlertState | 'discarded';
}

export interface AlertEvaluatorOptions {
  store: AlertStore;
  logger: Logger;
  rules?: readonly AlertRule[];
  clock?: Clock;
  notifier?: AlertNotifier;
  retrain?: RetrainHook;
  staleAfterMs?: number;
}

interface Tracked {
  alert: Alert;
  rule: AlertRule;
  /** Clock time of the last observation. */
  seenAt: number;
  /** Time of the newest sample applied. */
  sampleTime: number;
}

interface Observation {
  rule: AlertRule;
  labels: Record<string, string>;
  value: number;
  time: number;
}

/** Throws INVALID_ARGUMENT naming the sample field that is wrong. */
export function checkSamples(samples: unknown): MetricSample[] {
  if (!Array.isArray(samples)) throw invalidArgument('samples', 'must be an array of metric samples');
  samples.forEach((s: Partial<MetricSample> | null, i) => {
    const at = `samples[${i}]`;
    if (typeof s !== 'object' || s === null)
      throw invalidArgument(at, 'must be { metric, labels, value, time }');
    if (typeof s.metric !== 'string' || s.metric === '')
      throw invalidArgument(`${at}.metric`, 'must be a metric name');
    checkLabels(s.labels, `${at}.labels`);
    if (typeof s.value !== 'number') throw invalidArgument(`${at}.value`, 'must be a number');
    if (typeof s.time !== 'number' || !Number.isFinite(s.time))
      throw invalidArgument(`${at}.time`, 'must be epoch milliseconds');
  });
  return samples as MetricSample[];
}

/** Evaluates rules over samples and keeps alerts, the store and the notifier in step. */
export class AlertEvaluator {
  private readonly tracked = new Map<string, Tracked>();
  private readonly rules: readonly AlertRule[];
  private readonly clock: Clock;
  private readonly staleAfterMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: AlertEvaluatorOptions) {
    this.rules = checkRules(options.rules ?? DEFAULT_ALERT_RULES);
    this.clock = options.clock ?? systemClock;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_ALERTS_CONFIG.staleAfterMs;
  }

  /** An evaluator that resumes the pending and firing alerts already in the store. */
  static async open(options: AlertEvaluatorOptions): Promise<AlertEvaluator> {
    const evaluator = new AlertEvaluator(options);
    const now = evaluator.clock.now();
    for (const alert of await options.store.active()) {
      const rule = evaluator.rules.find((r) => r.name === alert.rule);
      // A rule removed from the config can no longer hold: its alerts resolve at the first sweep.
      const seenAt = rule ? now : Number.NEGATIVE_INFINITY;
      evaluator.tracked.set(alert.fingerprint, {
        alert,
        rule: rule ?? ruleOf(alert),
        seenAt,
        sampleTime: 0,
      });
    }
    return evaluator;
  }

  /** Applies the samples, then promotes pending alerts whose for-duration passed and resolves stale ones. */
  evaluate(samples: readonly MetricSample[]): Promise<AlertTransition[]> {
    let checked: MetricSample[];
    try {
      checked = checkSamples(samples);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.chain.then(() => this.apply(checked));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Sweeps every intervalMs (pending alerts fire and stale series resolve without new samples). */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.evaluate([]).catch((err: unknown) => this.options.logger.error({ err }, 'alert sweep failed'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the periodic sweep. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Pending and firing alerts as the evaluator sees them. */
  activeAlerts(): Alert[] {
    return [...this.tracked.values()].map((t) => t.alert);
  }

  private async apply(samples: readonly MetricSample[]): Promise<AlertTransition[]> {
    const now = this.clock.now();
    const transitions: AlertTransition[] = [];
    const touched = new Set<string>();
    for (const [fingerprint, obs] of this.observe(samples)) {
      touched.add(fingerprint);
      const t = await this.step(fingerprint, obs, now);
      if (t) transitions.push(t);
    }
    for (const [fingerprint, tracked] of [...this.tracked]) {
      if (touched.has(fingerprint)) continue;
      const t =
        now - tracked.seenAt > this.staleAfterMs
          ? await this.end(fingerprint, tracked, tracked.alert.value, now)
          : await this.promote(tracked, now);
      if (t) transitions.push(t);
    }
    return transitions;
  }

  /** The newest matching sample per fingerprint. */
  private observe(samples: readonly MetricSample[]): Map<string, Observation> {
    const latest = new Map<string, Observation>();
    for (const rule of this.rules) {
      for (const s of samples) {
        if (s.metric !== rule.metric || !ruleMatches(rule, s.labels)) continue;
        const labels = { ...s.labels, alertname: rule.name, severity: rule.severity };
        const fingerprint = alertFingerprint(rule.name, labels);
        const before = latest.get(fingerprint);
        if (!before || s.time >= before.time)
          latest.set(fingerprint, { rule, labels, value: s.value, time: s.time });
      }
    }
    return latest;
  }

  private async step(
    fingerprint: string,
    obs: Observation,
    now: number,
  ): Promise<AlertTransition | undefined> {
    const tracked = this.tracked.get(fingerprint);
    if (tracked && obs.time < tracked.sampleTime) return undefined;
    const holds = conditionHolds(obs.rule.condition, obs.value, obs.rule.threshold);
    if (!tracked) return holds ? this.begin(fingerprint, obs, now) : undefined;
    if (!holds) return this.end(fingerprint, tracked, obs.value, now);
    tracked.seenAt = now;
    tracked.sampleTime = obs.time;
    if (tracked.alert.state === 'pending') tracked.alert.value = obs.value;
    return this.promote(tracked, now);
  }

  private async begin(fingerprint: string, obs: Observation, now: number): Promise<AlertTransition> {
    const { rule } = obs;
    const firing = rule.forMs === 0;
    const alert: Alert = {
      id: newId(now),
      fingerprint,
      rule: rule.name,
      severity: rule.severity,
      state: firing ? 'firing' : 'pending',
      labels: obs.labels,
      annotations: annotationsOf(rule, obs),
      value: obs.value,
      activeAt: now,
      firedAt: firing ? now : null,
      resolvedAt: null,
    };
    await this.options.store.insert(alert);
    this.tracked.set(fingerprint, { alert, rule, seenAt: now, sampleTime: obs.time });
    if (firing) this.announce(alert, rule);
    return { alert: { ...alert }, from: 'inactive', to: alert.state };
  }

  private async promote(tracked: Tracked, now: number): Promise<AlertTransition | undefined> {
    const { alert, rule } = tracked;
    if (alert.state !== 'pending' || now - alert.activeAt < rule.forMs) return undefined;
    const fired: Alert = { ...alert, state: 'firing', firedAt: now };
    await this.options.store.update(fired);
    tracked.alert = fired;
    this.announce(fired, rule);
    return { alert: { ...fired }, from: 'pending', to: 'firing' };
  }

  private async end(
    fingerprint: string,
    tracked: Tracked,
    value: number,
    now: number,
  ): Promise<AlertTransition> {
    const { alert } = tracked;
    if (alert.state === 'pending') {
      await this.options.store.discard(alert.id);
      this.tracked.delete(fingerprint);
      return { alert: { ...alert, value }, from: 'pending', to: 'discarded' };
    }
    const resolved: Alert = { ...alert, state: 'resolved', value, resolvedAt: now };
    await this.options.store.update(resolved);
    this.tracked.delete(fingerprint);
    this.options.logger.info({ alertId: alert.id, rule: alert.rule, labels: alert.labels }, 'alert resolved');
    this.options.notifier?.notify(resolved);
    return { alert: { ...resolved }, from: 'firing', to: 'resolved' };
  }

  private announce(alert: Alert, rule: AlertRule): void {
    this.options.logger.warn(
      { alertId: alert.id, rule: alert.rule, labels: alert.labels, value: alert.value },
      'alert firing',
    );
    this.options.notifier?.notify(alert);
    if (rule.retrain) this.options.retrain?.fired(alert);
  }
}

function annotationsOf(rule: AlertRule, obs: Observation): Record<string, string> {
  return {
    summary: rule.summary ?? `${rule.metric} ${rule.condition} ${rule.threshold}`,
    description: `${rule.metric}${JSON.stringify(obs.labels)} = ${obs.value} (${rule.condition} ${rule.threshold})`,
    metric: rule.metric,
    threshold: String(rule.threshold),
  };
}

/** A stand-in rule for a stored alert whose rule is no longer configured. */
function ruleOf(alert: Alert): AlertRule {
  return {
    name: alert.rule,
    metric: alert.annotations.metric ?? alert.rule,
    condition: '>',
    threshold: Number(alert.annotations.threshold ?? 0),
    forMs: 0,
    severity: alert.severity,
  };
}
