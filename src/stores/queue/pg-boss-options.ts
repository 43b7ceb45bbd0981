/** The job queue's argument checks and the mapping of its options and outputs to and from pg-boss's. */
import { inspect } from 'node:util';
import type PgBoss from 'pg-boss';
import { invalidArgument } from '../../core/errors.js';
import type { JobState, SendOptions, WorkOptions } from './port.js';

/**
 * pg-boss documents letters, digits, `_` and `-`, but v10 only checks that one such character occurs;
 * names are values (partitions are named by hash), so `.` namespaces safely (`pipeline.default`).
 */
const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_EXPIRE_SECONDS = 24 * 60 * 60;

/** Throws INVALID_ARGUMENT unless name is a queue name pg-boss accepts (and not one of its own). */
export function checkQueueName(name: unknown, field = 'queue'): asserts name is string {
  if (typeof name !== 'string' || !QUEUE_NAME.test(name) || name.startsWith('__pgboss')) {
    throw invalidArgument(
      field,
      `${JSON.stringify(name)} is not a valid queue name`,
      'use 1-64 letters, digits, "_", "-" or "."',
    );
  }
}

/** Throws INVALID_ARGUMENT unless value is absent or a number (an integer unless `fractions`) in [min, max]. */
export function checkNumber(
  value: unknown,
  field: string,
  min: number,
  max: number,
  fractions = false,
): void {
  if (value === undefined) return;
  const kind = fractions ? 'a number' : 'an integer';
  const valid = typeof value === 'number' && (fractions ? Number.isFinite(value) : Number.isInteger(value));
  if (!valid || value < min || value > max)
    throw invalidArgument(field, `${String(value)} is not ${kind} from ${min} to ${max}`);
}

/** Validates SendOptions and maps them to pg-boss's, applying the port's defaults. */
export function toPgBossSendOptions(options: SendOptions = {}): PgBoss.SendOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const { singletonKey, retryLimit, retryDelaySeconds, retryBackoff, expireInSeconds, priority, startAfter } =
    options;
  const keyValid = typeof singletonKey === 'string' && singletonKey !== '' && singletonKey.length <= 255;
  if (singletonKey !== undefined && !keyValid) {
    throw invalidArgument('options.singletonKey', 'must be a non-empty string of at most 255 characters');
  }
  checkNumber(retryLimit, 'options.retryLimit', 0, 1000);
  checkNumber(retryDelaySeconds, 'options.retryDelaySeconds', 0, MAX_EXPIRE_SECONDS);
  checkNumber(priority, 'options.priority', -(2 ** 31), 2 ** 31 - 1);
  // pg-boss refuses expirations of 24 h or more.
  checkNumber(expireInSeconds, 'options.expireInSeconds', 1, MAX_EXPIRE_SECONDS - 1, true);
  if (retryBackoff !== undefined && typeof retryBackoff !== 'boolean') {
    throw invalidArgument('options.retryBackoff', 'must be true or false');
  }
  if (startAfter !== undefined && !(startAfter instanceof Date && !Number.isNaN(startAfter.getTime()))) {
    throw invalidArgument('options.startAfter', 'must be a valid Date');
  }
  return {
    retryLimit: retryLimit ?? 2,
    retryDelay: retryDelaySeconds ?? 1,
    retryBackoff: retryBackoff ?? true,
    expireInSeconds: expireInSeconds ?? 900,
    priority: priority ?? 0,
    ...(startAfter ? { startAfter } : {}),
    ...(singletonKey ? { singletonKey } : {}),
  };
}

/** Validates WorkOptions and applies the port's defaults. */
export function checkWorkOptions(options: WorkOptions = {}): { concurrency: number; intervalMs: number } {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  checkNumber(options.concurrency, 'options.concurrency', 1, 100);
  checkNumber(options.pollingIntervalSeconds, 'options.pollingIntervalSeconds', 0.05, 3600, true);
  return {
    concurrency: options.concurrency ?? 1,
    intervalMs: (options.pollingIntervalSeconds ?? 0.5) * 1000,
  };
}

/** JSON text of a payload (pg sends a bare string to jsonb as-is, which would not parse). */
export function toJsonText(value: unknown, field: string): string {
  try {
    return JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw invalidArgument(
      field,
      `is not JSON-serializable (${(err as Error).message})`,
      'send plain JSON data',
    );
  }
}

/** What a failed job records about the error its handler threw. */
export function errorOutput(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  return { message: typeof err === 'string' ? err : inspect(err) };
}

/** The port's `output`: the handler's result when completed, else `{ message, stack }` of the last error. */
export function toOutput(state: JobState, output: unknown): unknown {
  if (output === null || output === undefined) return null;
  const o = output as { result?: unknown; message?: unknown; stack?: unknown; value?: { message?: unknown } };
  if (state === 'completed') return o.result ?? null;
  // Jobs pg-boss's maintenance failed by timeout carry `{ value: { message } }`.
  const message = o.message ?? o.value?.message;
  return typeof message === 'string'
    ? { message, stack: typeof o.stack === 'string' ? o.stack : undefined }
    : null;
}
