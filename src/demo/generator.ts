/**
 * The demo's data generator: user activity events `{user_id, action, amount, country, ts}` with the
 * shape of real traffic (a few heavy users, skewed countries and amounts), some late events, exact
 * duplicate retries and a few deliberately bad events, streamed by concurrent producers through
 * `POST /v1/sources/:source/events`. Seeded: the same seed sends the same events (only `ts` follows
 * the wall clock).
 */
import { logNormal, seededRandom, weightedChoice, zipfSampler } from './random.js';
import type { Tally } from './tally.js';

/** One activity event as the churn example's `activity` source takes it. */
export interface ActivityEvent {
  user_id: number;
  action: string;
  amount: number;
  country: string;
  ts: string;
}

export interface GeneratorOptions {
  /** Users are 1..users; user 1 is the heaviest. */
  users: number;
  seed: number;
  /** Share of events stamped minutes in the past (default 0.03). */
  lateShare?: number;
}

export const ACTIONS = { view: 70, purchase: 25, refund: 5 } as const;
/** Purchase and refund amounts are log-normal with this median and sigma. */
export const AMOUNT_MEDIAN = 35;
export const AMOUNT_SIGMA = 1.2;
const COUNTRIES = { US: 38, DE: 14, GB: 12, FR: 9, IN: 10, BR: 8, JP: 5, NG: 4 } as const;
/** Zipf exponent: with 1000 users the top 10 send about a third of the events. */
const ZIPF_S = 1.1;

/** Makes the events of one producer. */
export class ActivityGenerator {
  private readonly random: () => number;
  private readonly user: () => number;
  private readonly action: () => keyof typeof ACTIONS;
  private readonly country: () => keyof typeof COUNTRIES;
  /** A user's home country, so most of a user's events agree on it. */
  private readonly home = new Map<number, string>();
  private badCount: number;

  constructor(private readonly options: GeneratorOptions) {
    this.random = seededRandom(options.seed);
    this.badCount = options.seed;
    this.user = zipfSampler(options.users, ZIPF_S, this.random);
    this.action = weightedChoice(ACTIONS, this.random);
    this.country = weightedChoice(COUNTRIES, this.random);
  }

  /** A uniform draw from this generator's stream. */
  next(): number {
    return this.random();
  }

  /** A user id drawn with the generator's skew. */
  userId(): number {
    return this.user();
  }

  /** One event at about `nowMs`; a few are late by 1-30 minutes. */
  event(nowMs: number): ActivityEvent {
    const userId = this.user();
    const action = this.action();
    const late = this.random() < (this.options.lateShare ?? 0.03);
    const lagMs = late ? 60_000 + this.random() * 29 * 60_000 : this.random() * 2_000;
    return {
      user_id: userId,
      action,
      amount: this.amount(action),
      country: this.countryOf(userId),
      ts: new Date(Math.floor(nowMs - lagMs)).toISOString(),
    };
  }

  /** A batch of `size` events. */
  batch(size: number, nowMs: number): ActivityEvent[] {
    return Array.from({ length: size }, () => this.event(nowMs));
  }

  /** An event the server must refuse, each time a different mistake. */
  badEvent(nowMs: number): Record<string, unknown> {
    const event: Record<string, unknown> = { ...this.event(nowMs) };
    const mistake = this.badCount++ % 3;
    if (mistake === 0) event.amount = String(event.amount);
    else if (mistake === 1) event.ts = (event.ts as string).replace('Z', '');
    else event.user_id = `user-${event.user_id}`;
    return event;
  }

  private amount(action: keyof typeof ACTIONS): number {
    if (action === 'view') return 0;
    const value = Math.round(logNormal(AMOUNT_MEDIAN, AMOUNT_SIGMA, this.random) * 100) / 100;
    return action === 'refund' ? -value : value;
  }

  private countryOf(userId: number): string {
    let home = this.home.get(userId);
    if (!home) {
      home = this.country();
      this.home.set(userId, home);
    }
    // Travellers: one event in twenty comes from elsewhere.
    return this.random() < 0.05 ? this.country() : home;
  }
}

export interface ProducerOptions {
  /** The platform's HTTP address. */
  url: string;
  source: string;
  generator: ActivityGenerator;
  /** Events per second this producer aims for. */
  rate: number;
  /** Events per request. */
  batchSize: number;
  /** Chance that a batch is sent a second time, as a client retrying after a lost answer. */
  retryShare?: number;
  /** Requests of this producer in flight at once (default 8). */
  maxInFlight?: number;
  /** Send one bad event every this many batches (0 = never). */
  badEvery?: number;
  tally: Tally;
  signal: AbortSignal;
}

/** Streams batches at the producer's rate until the signal fires; resolves when its last request ends. */
export async function runPushProducer(options: ProducerOptions): Promise<void> {
  const { signal } = options;
  const intervalMs = (options.batchSize / options.rate) * 1000;
  const maxInFlight = options.maxInFlight ?? 8;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let batchNo = 0; !signal.aborted; batchNo++) {
    // Requests overlap, as from a client with a connection pool: the rate must not hinge on latency.
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const request = sendBatch(options, batchNo);
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
    await sleepUntil(started + (batchNo + 1) * intervalMs, signal);
  }
  await Promise.all(inFlight);
}

/** One batch, perhaps retried as-is, perhaps followed by a bad event. */
async function sendBatch(options: ProducerOptions, batchNo: number): Promise<void> {
  const { generator } = options;
  const batch = generator.batch(options.batchSize, Date.now());
  const retry = generator.next() < (options.retryShare ?? 0.05);
  const bad = options.badEvery && batchNo % options.badEvery === options.badEvery - 1;
  const badEvent = bad ? generator.badEvent(Date.now()) : undefined;
  await send(options, batch);
  if (retry) await send(options, batch);
  if (badEvent) await send(options, [badEvent]);
}

/** Posts one batch and records the answer. */
async function send(options: ProducerOptions, events: readonly object[]): Promise<void> {
  const { tally } = options;
  let response: Response;
  try {
    response = await fetch(`${options.url}/v1/sources/${options.source}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    tally.failed('push', events.length, (err as Error).name ?? 'network error');
    return;
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok) {
    tally.ok('push', events.length, Number(body.accepted), Number(body.duplicates));
  } else if (response.status === 400) {
    const details = body.details as { field?: unknown } | undefined;
    tally.rejected('push', events.length, String(details?.field ?? ''), String(body.error));
  } else {
    tally.failed('push', events.length, `${response.status} ${String(body.code ?? '')}`.trim());
  }
}

/** Waits until a `performance.now()` time, or less when the signal fires. */
function sleepUntil(when: number, signal: AbortSignal): Promise<void> {
  const ms = when - performance.now();
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
