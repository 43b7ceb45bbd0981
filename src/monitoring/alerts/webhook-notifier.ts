/**
 * Delivers alert webhooks in the background: `notify` only queues, so the evaluator never waits on a
 * receiver. Each URL has its own queue drained one delivery at a time, which keeps a firing and its
 * resolve in order and a slow receiver from delaying the others. A failed attempt (network error,
 * timeout, 408, 429, 5xx) is retried with exponential backoff and jitter up to a bounded number of
 * attempts; other 4xx answers will not change on retry and fail at once.
 */
import { Counter, type Registry } from 'prom-client';
import { DEFAULT_ALERTS_CONFIG } from '../../core/alerts-config.js';
import { sleepUnlessAborted } from '../../core/clock.js';
import { redactUrl } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Alert } from './alert.js';
import { type PayloadOptions, webhookPayload } from './webhook-payload.js';

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
}

export interface WebhookNotifierOptions extends PayloadOptions {
  urls: readonly string[];
  registry: Registry;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** Deliveries waiting per URL beyond this are dropped, oldest first. */
  queueLimit?: number;
  /** Source of jitter in [0, 1); tests may fix it. */
  random?: () => number;
}

/** Anything that wants to hear about alerts that fired or resolved. */
export interface AlertNotifier {
  /** Queues the alert's current state for delivery; never waits and never throws. */
  notify(alert: Alert): void;
}

type AttemptOutcome = 'delivered' | 'http_error' | 'network_error' | 'timeout';

interface Delivery {
  body: string;
  alertId: string;
  status: string;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labels: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames: labels, registers: [registry] });
}

/** Backoff before attempt n+1 (n >= 1): doubling from initial up to max, half of it jittered. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** Posts alert webhooks from per-URL background queues with bounded retries. */
export class WebhookNotifier implements AlertNotifier {
  private readonly policy: RetryPolicy;
  private readonly queues = new Map<string, Delivery[]>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly closing = new AbortController();
  private readonly attempts: Counter<'outcome'>;
  private readonly deliveries: Counter<'result'>;
  private readonly random: () => number;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.policy = { ...DEFAULT_ALERTS_CONFIG.retry, ...options.retry };
    this.random = options.random ?? Math.random;
    this.attempts = counter(
      options.registry,
      'meridian_alert_webhook_attempts_total',
      'Alert webhook POST attempts by outcome (delivered, http_error, network_error, timeout)',
      ['outcome'],
    );
    this.deliveries = counter(
      options.registry,
      'meridian_alert_webhook_deliveries_total',
      'Alert webhook deliveries by final result (delivered, failed after retries, dropped from a full queue)',
      ['result'],
    );
  }

  /** Queues the alert for every configured URL. */
  notify(alert: Alert): void {
    if (this.closing.signal.aborted || this.options.urls.length === 0) return;
    const payload = webhookPayload(alert, this.options);
    const delivery = { body: JSON.stringify(payload), alertId: alert.id, status: payload.status };
    for (const url of this.options.urls) this.enqueue(url, delivery);
  }

  /** Resolves once every queued delivery has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining.values());
  }

  /** Stops retrying, abandons queued deliveries and waits for the in-flight attempts to end. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.idle();
  }

  private enqueue(url: string, delivery: Delivery): void {
    const queue = this.queues.get(url) ?? [];
    this.queues.set(url, queue);
    queue.push(delivery);
    const limit = this.options.queueLimit ?? DEFAULT_ALERTS_CONFIG.queueLimit;
    while (queue.length > limit) {
      const dropped = queue.shift();
      this.deliveries.inc({ result: 'dropped' });
      this.options.logger.warn(
        { url: redactUrl(url), alertId: dropped?.alertId, limit },
        'alert webhook queue full: dropped the oldest delivery; the receiver is down or too slow',
      );
    }
    if (!this.draining.has(url))
      this.draining.set(
        url,
        Promise.resolve().then(() => this.drain(url, queue)),
      );
  }

  /** Delivers until the queue is empty; leaves `draining` in the same tick as it finds the queue empty. */
  private async drain(url: string, queue: Delivery[]): Promise<void> {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        this.draining.delete(url);
        return;
      }
      if (this.closing.signal.aborted) {
        this.deliveries.inc({ result: 'failed' });
        continue;
      }
      await this.deliver(url, next);
    }
  }

  private async deliver(url: string, delivery: Delivery): Promise<void> {
    const log = { url: redactUrl(url), alertId: delivery.alertId, status: delivery.status };
    for (let attempt = 1; ; attempt++) {
      const { outcome, detail } = await this.attempt(url, delivery.body);
      this.attempts.inc({ outcome });
      if (outcome === 'delivered') {
        this.deliveries.inc({ result: 'delivered' });
        this.options.logger.debug({ ...log, attempt }, 'alert webhook delivered');
        return;
      }
      const permanent = outcome === 'http_error' && !retryable(Number(detail));
      if (permanent || attempt >= this.policy.maxAttempts || this.closing.signal.aborted) {
        this.deliveries.inc({ result: 'failed' });
        this.options.logger.error(
          { ...log, attempt, outcome, detail },
          `alert webhook not delivered after ${attempt} attempt(s); check that the receiver is up and accepts POST`,
        );
        return;
      }
      this.options.logger.warn(
        { ...log, attempt, outcome, detail },
        'alert webhook attempt failed; retrying',
      );
      await sleepUnlessAborted(backoffMs(this.policy, attempt, this.random), this.closing.signal);
    }
  }

  private async attempt(url: string, body: string): Promise<{ outcome: AttemptOutcome; detail?: string }> {
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.policy.timeoutMs)]);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'meridian-alerts' },
        body,
        signal,
      });
      await response.arrayBuffer();
      if (response.ok) return { outcome: 'delivered' };
      return { outcome: 'http_error', detail: String(response.status) };
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError')
        return { outcome: 'timeout', detail: `no answer in ${this.policy.timeoutMs} ms` };
      const cause = (e as { cause?: Error }).cause;
      return { outcome: 'network_error', detail: cause?.message ?? e.message };
    }
  }
}
