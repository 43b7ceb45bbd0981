/**
 * The `pipelines` section of the config (e.g. MERIDIAN_PIPELINES_MODULES): where pipeline
 * definitions come from, how workers pull steps, and how a dead worker is noticed. Its own file
 * because `meridian worker` parses it without the rest of a platform.
 */
import { z } from 'zod';
import { booleanFlag } from './boolean-flag.js';
import { commaList } from './comma-list.js';

const stringList = commaList(z.string().min(1));

const ms = z.coerce.number().int().min(0);

export const pipelinesConfigSchema = z
  .object({
    /** Modules whose exports are definePipeline() results, loaded by the scheduler and every worker. */
    modules: stringList.default([]),
    /** The platform's REST base URL built-in steps call; default: this process's own HTTP server. */
    apiUrl: z.url().optional(),
    /** Run steps in the platform process too (`meridian up`); `meridian worker` processes always do. */
    worker: booleanFlag.default(true),
    /** Queues this process's worker pulls (`meridian worker --queues` overrides). */
    queues: stringList.default(['default']),
    /** Steps one worker runs at the same time, per queue. */
    concurrency: z.coerce.number().int().min(1).max(256).default(2),
    /** How often a running step reports it is alive. */
    heartbeatMs: ms.min(100).default(5_000),
    /** A running step silent this long is taken as lost (its worker died) and retried elsewhere. */
    heartbeatTimeoutMs: ms.min(500).default(60_000),
    /** How often lost steps and due schedules are looked for. */
    sweepIntervalMs: ms.min(100).default(10_000),
    /** Run the schedules of the loaded pipelines in this process (target all or pipelines). */
    schedules: booleanFlag.default(true),
  })
  .refine((p) => p.heartbeatTimeoutMs > p.heartbeatMs, {
    path: ['heartbeatTimeoutMs'],
    message: 'must be longer than pipelines.heartbeatMs; raise it to a few heartbeats',
  })
  .prefault({});

export type PipelinesConfig = z.infer<typeof pipelinesConfigSchema>;

/** The settings with every default filled in. */
export const DEFAULT_PIPELINES_CONFIG: PipelinesConfig = pipelinesConfigSchema.parse(undefined);
