/**
 * The JSON body of an alert webhook, in Alertmanager's webhook format (version "4"), so receivers
 * written for Alertmanager (chat bridges, incident tools) understand Meridian's alerts unchanged.
 * One delivery carries one alert.
 */
import type { Alert } from './alert.js';

/** Alertmanager's "not ended yet" time. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface PayloadOptions {
  /** Where the alert can be looked at, e.g. `http://meridian:8700`; `/v1/alerts/{id}` is appended. */
  externalUrl?: string;
  receiver?: string;
}

/** The webhook body announcing that alert fired or resolved. */
export function webhookPayload(alert: Alert, options: PayloadOptions = {}): WebhookPayload {
  const status = alert.state === 'resolved' ? 'resolved' : 'firing';
  const externalURL = options.externalUrl ?? '';
  return {
    version: '4',
    groupKey: `{}:{alertname="${alert.rule}"}`,
    truncatedAlerts: 0,
    status,
    receiver: options.receiver ?? 'meridian',
    groupLabels: { alertname: alert.rule },
    commonLabels: alert.labels,
    commonAnnotations: alert.annotations,
    externalURL,
    alerts: [
      {
        status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: new Date(alert.firedAt ?? alert.activeAt).toISOString(),
        endsAt: alert.resolvedAt === null ? ZERO_TIME : new Date(alert.resolvedAt).toISOString(),
        generatorURL: externalURL ? `${externalURL.replace(/\/$/, '')}/v1/alerts/${alert.id}` : '',
        fingerprint: alert.fingerprint,
      },
    ],
  };
}
