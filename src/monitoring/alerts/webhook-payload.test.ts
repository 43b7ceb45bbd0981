import { describe, expect, it } from 'vitest';
import { alertsConfigSchema, DEFAULT_ALERTS_CONFIG } from '../../core/alerts-config.js';
import { type Alert, alertFingerprint } from './alert.js';
import { backoffMs } from './webhook-notifier.js';
import { webhookPayload } from './webhook-payload.js';

const alert: Alert = {
  id: 'a1',
  fingerprint: alertFingerprint('R', { model: 'churn' }),
  rule: 'R',
  severity: 'warning',
  state: 'resolved',
  labels: { alertname: 'R', model: 'churn' },
  annotations: { summary: 's' },
  value: 0.1,
  activeAt: Date.parse('2026-01-01T00:00:00Z'),
  firedAt: Date.parse('2026-01-01T00:05:00Z'),
  resolvedAt: Date.parse('2026-01-01T01:00:00Z'),
};

describe('alert fingerprints, payloads, backoff and config', () => {
  it('fingerprints rule and labels regardless of label order, and tells label sets apart', () => {
    const a = alertFingerprint('R', { model: 'churn', version: '1' });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(alertFingerprint('R', { version: '1', model: 'churn' })).toBe(a);
    expect(alertFingerprint('R', { model: 'churn', version: '2' })).not.toBe(a);
    expect(alertFingerprint('S', { model: 'churn', version: '1' })).not.toBe(a);
  });

  it('writes a resolved alert with its firing time as startsAt and resolve time as endsAt', () => {
    const body = webhookPayload(alert);
    expect(body).toMatchObject({
      version: '4',
      status: 'resolved',
      commonLabels: alert.labels,
      externalURL: '',
    });
    expect(body.alerts[0]).toMatchObject({
      startsAt: '2026-01-01T00:05:00.000Z',
      endsAt: '2026-01-01T01:00:00.000Z',
      generatorURL: '',
      fingerprint: alert.fingerprint,
    });
  });

  it('doubles the backoff up to the maximum, jittering the upper half', () => {
    const policy = { maxAttempts: 9, initialBackoffMs: 100, maxBackoffMs: 1000, timeoutMs: 1 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 5].map((n) => backoffMs(policy, n, () => 0.999999))).toEqual([
      expect.closeTo(100, 3),
      expect.closeTo(200, 3),
      expect.closeTo(1000, 3),
    ]);
  });

  it('defaults to no webhooks and reads a comma-separated URL list', () => {
    expect(DEFAULT_ALERTS_CONFIG).toMatchObject({ webhooks: [], evaluationIntervalMs: 60_000 });
    expect(DEFAULT_ALERTS_CONFIG.retry).toEqual({
      maxAttempts: 5,
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      timeoutMs: 5_000,
    });
    const parsed = alertsConfigSchema.parse({
      webhooks: 'http://a:1/x, https://b/y',
      retry: { maxAttempts: '3' },
    });
    expect(parsed.webhooks).toEqual(['http://a:1/x', 'https://b/y']);
    expect(parsed.retry.maxAttempts).toBe(3);
    expect(alertsConfigSchema.safeParse({ webhooks: ['ftp://x/'] }).success).toBe(false);
  });
});
