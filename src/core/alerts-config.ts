/**
 * The `monitoring.alerts` section of the config: where alerts are delivered, how often rules are
 * swept and how deliveries are retried. Its own file because the alerting module also parses it alone.
 */
import { z } from 'zod';
import { commaList } from './comma-list.js';

/** Webhook URLs as a list, or as one comma-separated string. */
const urlList = commaList(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }));

const ms = z.coerce.number().int().min(0);

export const alertsConfigSchema = z
  .object({
    /** Every alert that fires or resolves is POSTed to each of these URLs. */
    webhooks: urlList.default([]),
    /** How often pending alerts are promoted and stale ones resolved, without new samples. */
    evaluationIntervalMs: ms.min(1000).default(60_000),
    /** An active alert whose series has not been observed for this long resolves (series gone). */
    staleAfterMs: ms.min(1000).default(3 * 3_600_000),
    /** Shown to receivers as `externalURL` and in each alert's `generatorURL`. */
    externalUrl: z.url().optional(),
    retry: z
      .object({
        /** Attempts per delivery, the first included. */
        maxAttempts: z.coerce.number().int().min(1).max(20).default(5),
        /** Backoff before the second attempt; doubles each time, with full jitter. */
        initialBackoffMs: ms.default(500),
        maxBackoffMs: ms.default(30_000),
        /** Per-attempt timeout. */
        timeoutMs: ms.min(1).default(5_000),
      })
      .prefault({}),
    /** Deliveries waiting per webhook beyond this are dropped (and counted), oldest first. */
    queueLimit: z.coerce.number().int().min(1).default(1000),
  })
  .prefault({});

export type AlertsConfig = z.infer<typeof alertsConfigSchema>;

/** The configuration with every default filled in. */
export const DEFAULT_ALERTS_CONFIG: AlertsConfig = alertsConfigSchema.parse(undefined);
