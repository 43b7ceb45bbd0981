/**
 * The job queue on pg-boss 10 (pinned: 12 needs Node 22), over a state store's SQL: PGlite in one
 * process, or PostgreSQL shared by workers on many machines. Workers are our own fetch loops (one per
 * unit of concurrency) so completion is awaited and stopWork() can wait for running jobs.
 */
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { sleepUnlessAborted } from '../../core/clock.js';
import { invalidArgument, MeridianError, storeClosed, storeUnavailable } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SqlSource, StateStore } from '../state/index.js';
import { failActiveJobSql } from './pg-boss-fail.js';
import {
  checkNumber,
  checkQueueName,
  checkWorkOptions,
  errorOutput,
  toJsonText,
  toOutput,
  toPgBossSendOptions,
} from './pg-boss-options.js';
import type {
  FailedState,
  Job,
  JobHandler,
  JobInfo,
  JobQueue,
  JobState,
  SendOptions,
  WorkOptions,
} from './port.js';

const SCHEMA = 'pgboss';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FAIL_ACTIVE = failActiveJobSql(SCHEMA);

function checkJobId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !UUID.test(id))
    throw invalidArgument('id', `${JSON.stringify(id)} is not a job id (a UUID)`);
}

export interface PgBossQueueOptions {
  /** How often expired jobs (their worker died) are failed or retried; default 30 s, minimum 1. */
  maintenanceIntervalSeconds?: number;
  /** How long close() waits for running handlers before failing their jobs (so they retry); default 10 s. */
  shutdownGraceSeconds?: number;
}

interface Worker {
  id: string;
  queue: string;
  stopping: boolean;
  wake: AbortController;
  loops: Promise<void>[];
}

export class PgBossJobQueue implements JobQueue {
  readonly description: string;
  readonly #boss: PgBoss;
  readonly #store: StateStore & SqlSource;
  readonly #ownsStore: boolean;
  readonly #logger: Logger;
  readonly #workers = new Map<string, Worker>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Jobs whose handler is running: id -> queue. */
  readonly #running = new Map<string, string>();
  readonly #graceMs: number;
  /** Set by the first close(); every later call refuses and every close() returns this promise. */
  #closing: Promise<void> | undefined;
  /** Set once close() has given up on running handlers (failed their jobs for retry). */
  #gaveUp = false;
  #sqlFailures = 0;

  private constructor(
    store: StateStore & SqlSource,
    logger: Logger,
    ownsStore: boolean,
    options: PgBossQueueOptions,
  ) {
    this.#store = store;
    this.#ownsStore = ownsStore;
    this.#logger = logger;
    this.#graceMs = (options.shutdownGraceSeconds ?? 10) * 1000;
    this.description = `pg-boss on ${store.description}`;
    const db = { executeSql: (text: string, values?: unknown[]) => this.#executeSql(text, values) };
    this.#boss = new PgBoss({
      db,
      schema: SCHEMA,
      migrate: true,
      supervise: true,
      // Cron scheduling would add a polling worker and clock checks that nothing here uses.
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
    });
    this.#boss.on('error', (err) =>
      logger.warn({ err, queue: this.description }, 'pg-boss maintenance failed'),
    );
  }

  /** Starts pg-boss on the store (creating or migrating its schema); `ownsStore` closes the store on close(). */
  static async start(
    store: StateStore & SqlSource,
    logger: Logger,
    ownsStore: boolean,
    options: PgBossQueueOptions = {},
  ): Promise<PgBossJobQueue> {
    checkNumber(options.maintenanceIntervalSeconds, 'maintenanceIntervalSeconds', 1, 3600);
    checkNumber(options.shutdownGraceSeconds, 'shutdownGraceSeconds', 0, 3600, true);
    const queue = new PgBossJobQueue(store, logger, ownsStore, options);
    try {
      await queue.#boss.start();
    } catch (err) {
      await queue.#boss.stop({ graceful: false, close: false }).catch(() => undefined);
      if (ownsStore) await store.close().catch(() => undefined);
      if (err instanceof MeridianError) throw err;
      throw storeUnavailable('job queue', store.description, 'starting pg-boss (installing its schema)', err);
    }
    return queue;
  }

  /** SQL statements of this queue that failed, including those pg-boss's fetch() answers with []. */
  get sqlFailures(): number {
    return this.#sqlFailures;
  }

  /**
   * Every statement pg-boss runs goes through here. fetch() swallows database errors and answers [],
   * so an outage would look like an idle queue: each failure is logged and counted here instead.
   */
  #executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    return this.#track(
      this.#store.executeSql(text, values).catch((err: unknown) => {
        this.#sqlFailures++;
        const statement = text.trim().slice(0, 80);
        this.#logger.warn(
          { err, queue: this.description, failures: this.#sqlFailures, statement },
          'job queue SQL failed',
        );
        throw err;
      }),
    );
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const forget = (): void => {
      this.#inFlight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  #usable(): void {
    if (this.#closing) throw storeClosed('job queue', this.description);
  }

  async createQueue(queue: string): Promise<void> {
    checkQueueName(queue);
    this.#usable();
    await this.#boss.createQueue(queue, { name: queue, policy: 'standard' });
    await this.#ensureSingletonIndex(queue);
  }

  /**
   * pg-boss 10 only deduplicates singletonKey on short/singleton/stately queues, none of which means
   * "one queued or active job per key". A unique partial index on the queue's partition does: pg-boss
   * inserts with ON CONFLICT DO NOTHING, so a duplicate send returns null.
   */
  async #ensureSingletonIndex(queue: string): Promise<void> {
    await this.#store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`meridian.queue.${queue}`]);
      const { rows } = await tx.query<{ partition_name: string }>(
        `SELECT partition_name FROM ${SCHEMA}.queue WHERE name = $1`,
        [queue],
      );
      const partition = rows[0]?.partition_name;
      if (!partition || !/^j[0-9a-f]+$/.test(partition)) return;
      await tx.exec(
        `CREATE UNIQUE INDEX IF NOT EXISTS ${partition}_sk ON ${SCHEMA}.${partition} (singleton_key) ` +
          `WHERE singleton_key IS NOT NULL AND state < 'completed'`,
      );
    });
  }

  async send<T>(queue: string, data: T, options?: SendOptions): Promise<string | null> {
    checkQueueName(queue);
    const pgOptions = toPgBossSendOptions(options);
    const json = toJsonText(data, 'data');
    this.#usable();
    const id = await this.#boss.send(queue, json as unknown as object, pgOptions);
    if (id) return id;
    if (!(await this.#boss.getQueue(queue))) {
      const message = `queue "${queue}" does not exist; call createQueue("${queue}") first`;
      throw new MeridianError('NOT_FOUND', message, { field: 'queue' });
    }
    return null;
  }

  async work<T>(queue: string, handler: JobHandler<T>, options?: WorkOptions): Promise<string> {
    checkQueueName(queue);
    if (typeof handler !== 'function')
      throw invalidArgument('handler', 'must be a function', 'pass async (job) => result');
    const { concurrency, intervalMs } = checkWorkOptions(options);
    this.#usable();
    const worker: Worker = {
      id: randomUUID(),
      queue,
      stopping: false,
      wake: new AbortController(),
      loops: [],
    };
    for (let i = 0; i < concurrency; i++) {
      worker.loops.push(this.#loop(worker, handler as JobHandler, intervalMs));
    }
    this.#workers.set(worker.id, worker);
    return worker.id;
  }

  async #loop(worker: Worker, handler: JobHandler, intervalMs: number): Promise<void> {
    while (!worker.stopping) {
      // pg-boss's fetch() swallows database errors and answers [], so an outage looks like an idle queue.
      const [job] = await this.#boss.fetch(worker.queue, { batchSize: 1, includeMetadata: true });
      if (job) {
        await this.#run(worker.queue, job, handler);
        continue;
      }
      await sleepUnlessAborted(intervalMs, worker.wake.signal);
    }
  }

  async #run(queue: string, job: PgBoss.JobWithMetadata<unknown>, handler: JobHandler): Promise<void> {
    const expireSeconds = Number(job.expireInSeconds);
    let timer: NodeJS.Timeout | undefined;
    // Like pg-boss's own work(): a handler running past expireInSeconds is failed, so a later completion
    // cannot complete a retry that another worker has taken meanwhile.
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`handler ran longer than expireInSeconds (${expireSeconds} s)`)),
        expireSeconds * 1000,
      );
      // A hung handler must not keep the process alive for up to expireInSeconds after close().
      timer.unref();
    });
    const payload: Job = { id: job.id, queue, data: job.data, retryCount: job.retryCount };
    this.#running.set(job.id, queue);
    try {
      const result = await Promise.race([Promise.resolve().then(() => handler(payload)), expired]);
      await this.#settle(queue, job.id, 'complete', { result: JSON.parse(toJsonText(result, 'result')) });
    } catch (err) {
      await this.#settle(queue, job.id, 'fail', errorOutput(err));
    } finally {
      clearTimeout(timer);
      this.#running.delete(job.id);
    }
  }

  async #settle(queue: string, id: string, how: 'complete' | 'fail', output: object): Promise<void> {
    // After close() gave up on a job (failed it for retry), a late result must not touch the next attempt.
    if (this.#gaveUp) return;
    try {
      await (how === 'complete'
        ? this.#boss.complete(queue, id, output)
        : this.#boss.fail(queue, id, output));
    } catch (err) {
      // The job stays active and expires, then it is retried: log, do not stop the loop.
      this.#logger.warn({ err, queue, job: id }, `could not ${how} job; it will be retried after it expires`);
    }
  }

  async stopWork(workerId?: string): Promise<void> {
    if (workerId !== undefined && typeof workerId !== 'string')
      throw invalidArgument('workerId', 'must be a string');
    this.#usable();
    await this.#stopWorkers(workerId);
  }

  async #stopWorkers(workerId?: string): Promise<void> {
    const stopping = workerId === undefined ? [...this.#workers.values()] : [this.#workers.get(workerId)];
    for (const worker of stopping) {
      if (!worker) continue;
      worker.stopping = true;
      worker.wake.abort();
    }
    await Promise.all(stopping.flatMap((w) => w?.loops ?? []));
    for (const worker of stopping) if (worker) this.#workers.delete(worker.id);
  }

  async getJob<T>(queue: string, id: string): Promise<JobInfo<T> | null> {
    checkQueueName(queue);
    checkJobId(id);
    this.#usable();
    const job = await this.#boss.getJobById<T>(queue, id, { includeArchive: true });
    if (!job) return null;
    const state = job.state as JobState;
    return {
      id: job.id,
      queue: job.name,
      data: job.data,
      retryCount: job.retryCount,
      state,
      retryLimit: job.retryLimit,
      output: toOutput(state, job.output),
      createdOn: new Date(job.createdOn),
      startedOn: job.startedOn ? new Date(job.startedOn) : null,
      completedOn: job.completedOn ? new Date(job.completedOn) : null,
    };
  }

  async fail(
    queue: string,
    id: string,
    error: { message: string },
    retryCount: number,
  ): Promise<FailedState | null> {
    checkQueueName(queue);
    checkJobId(id);
    checkNumber(retryCount, 'retryCount', 0, 2 ** 31 - 1);
    if (typeof error?.message !== 'string') throw invalidArgument('error.message', 'must be a string');
    this.#usable();
    const output = toJsonText({ message: error.message }, 'error');
    const { rows } = await this.#executeSql(FAIL_ACTIVE, [queue, [id], output, retryCount]);
    const state = (rows[0] as { state?: string } | undefined)?.state;
    return state === 'retry' || state === 'failed' ? state : null;
  }

  /** Runs `SELECT 1` on the path pg-boss's own statements take, so a database outage fails it. */
  async ping(): Promise<void> {
    this.#usable();
    try {
      await this.#executeSql('SELECT 1');
    } catch (err) {
      throw storeUnavailable('job queue', this.#store.description, 'SELECT 1', err);
    }
  }

  /** Every call gets the same promise: new work is refused at once, and it settles when all is stopped. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    const grace = new AbortController();
    const finished = await Promise.race([
      this.#stopWorkers().then(() => true),
      sleepUnlessAborted(this.#graceMs, grace.signal).then(() => false),
    ]);
    grace.abort();
    if (!finished) {
      for (const [id, queue] of this.#running) {
        await this.#settle(queue, id, 'fail', { message: 'the job queue closed while this job was running' });
      }
    }
    this.#gaveUp = true;
    await this.#boss.stop({ graceful: true, close: false, wait: true, timeout: 1000 });
    // A maintenance run may still be on its way when stop() returns.
    await Promise.allSettled([...this.#inFlight]);
    if (this.#ownsStore) await this.#store.close();
  }
}
