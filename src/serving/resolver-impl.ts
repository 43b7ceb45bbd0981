/**
 * The ModelResolver of a serving process, over the model registry. Each version is loaded once (a
 * request arriving while it loads waits for the same load), warmed up, then cached, with a bound on
 * how many versions stay loaded. Promotions made by any process are followed by polling the
 * registry: a new production version is loaded in the background and answers by default once ready.
 */
import { MeridianError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { checkName, checkVersion, type ModelVersion } from './model-version.js';
import type { ModelRegistry } from './registry.js';
import type { ModelResolver, ServedModel } from './resolver.js';
import { loadServedModel, type ModelLoadFn, type WorkerPlacement } from './served-model.js';

export interface ResolverOptions {
  /** How often to look for promotions made elsewhere; default 2000 ms. */
  pollIntervalMs?: number;
  /** Versions kept loaded at most (production versions are never evicted); default 16. */
  maxLoadedVersions?: number;
  /** How long `resolve` waits for a load before answering UNAVAILABLE; default 60 s. */
  loadWaitMs?: number;
  /** How long an evicted model stays open for predictions still using it; default 5 s. */
  evictGraceMs?: number;
  logger?: Logger;
  /** Replaces `loadModel` (tests observe loads and warm-ups through it). */
  load?: ModelLoadFn;
  /** Each loaded version's warm worker pool; without it every batch runs on the serving thread. */
  workers?: Omit<WorkerPlacement, 'logger'>;
}

interface Entry {
  loading?: Promise<ServedModel>;
  ready?: ServedModel;
  lastUsed: number;
}

const key = (name: string, version: number): string => `${name}\u0000${version}`;

export class RegistryModelResolver implements ModelResolver {
  readonly #entries = new Map<string, Entry>();
  /** Production versions as last polled. */
  #production = new Map<string, number>();
  /** The version each model answers with by default: production, loaded. */
  readonly #serving = new Map<string, number>();
  readonly #retiring = new Set<ServedModel>();
  readonly #options: Required<Omit<ResolverOptions, 'load' | 'workers'>> &
    Pick<ResolverOptions, 'load' | 'workers'>;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  private constructor(
    private readonly registry: ModelRegistry,
    options: ResolverOptions,
  ) {
    this.#options = {
      pollIntervalMs: options.pollIntervalMs ?? 2000,
      maxLoadedVersions: options.maxLoadedVersions ?? 16,
      loadWaitMs: options.loadWaitMs ?? 60_000,
      evictGraceMs: options.evictGraceMs ?? 5000,
      logger: options.logger ?? silentLogger,
      load: options.load,
      workers: options.workers,
    };
  }

  /** Reads the production versions once, starts loading them, and polls for changes from then on. */
  static async start(registry: ModelRegistry, options: ResolverOptions = {}): Promise<RegistryModelResolver> {
    const resolver = new RegistryModelResolver(registry, options);
    await resolver.poll();
    resolver.#schedule();
    return resolver;
  }

  async resolve(name: string, version?: number): Promise<ServedModel> {
    this.#checkOpen();
    checkName(name);
    if (version !== undefined) {
      checkVersion(version);
      const hit = this.#ready(name, version);
      return hit ?? this.#wait(this.#load(await this.registry.version(name, version)), name, version);
    }
    const serving = this.#serving.get(name);
    const hit = serving === undefined ? undefined : this.#ready(name, serving);
    if (hit) return hit;
    // Not polled yet, or still loading: ask the registry itself, so a fresh promotion answers at once.
    const production = await this.registry.production(name);
    const served = await this.#wait(this.#load(production), name, production.version);
    if (!this.#serving.has(name)) this.#serving.set(name, production.version);
    return served;
  }

  async isReady(name: string, version?: number): Promise<boolean> {
    if (this.#closed) return false;
    const wanted = version ?? this.#serving.get(name);
    if (wanted === undefined) return false;
    if (this.#entries.get(key(name, wanted))?.ready) return true;
    // Start loading a version someone asks about, so polling readiness eventually answers true.
    this.registry.version(name, wanted).then(
      (v) => this.#load(v).catch(() => undefined),
      () => undefined,
    );
    return false;
  }

  async served(): Promise<string[]> {
    return [...this.#production.keys()].sort();
  }

  /** Looks for promotions once: starts loading new production versions and switches to each when ready. */
  async poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  /** Stops polling, waits for loads in flight and frees every loaded model. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#polling?.catch(() => undefined);
    const entries = [...this.#entries.values()];
    await Promise.allSettled(entries.map((e) => e.loading));
    const models = [...entries.flatMap((e) => (e.ready ? [e.ready] : [])), ...this.#retiring];
    this.#entries.clear();
    this.#retiring.clear();
    await Promise.allSettled(models.map((m) => m.model.close()));
  }

  async #pollOnce(): Promise<void> {
    let production: Map<string, number>;
    try {
      production = await this.registry.productionVersions();
    } catch (err) {
      this.#options.logger.warn(
        { err },
        'could not read production model versions; retrying at the next poll',
      );
      return;
    }
    this.#production = production;
    for (const name of this.#serving.keys()) {
      if (!production.has(name)) this.#serving.delete(name);
    }
    for (const [name, version] of production) {
      if (this.#serving.get(name) === version) continue;
      this.#switchWhenReady(name, version);
    }
  }

  #switchWhenReady(name: string, version: number): void {
    const switchTo = () => {
      if (this.#production.get(name) === version) this.#serving.set(name, version);
    };
    if (this.#ready(name, version)) {
      switchTo();
      return;
    }
    this.registry
      .version(name, version)
      .then((v) => this.#load(v))
      .then(switchTo, (err: unknown) => {
        if (this.#closed) return;
        this.#options.logger.error(
          { err, model: name, version },
          'could not load the production model version',
        );
      });
  }

  #ready(name: string, version: number): ServedModel | undefined {
    const entry = this.#entries.get(key(name, version));
    if (!entry?.ready) return undefined;
    entry.lastUsed = Date.now();
    return entry.ready;
  }

  /** The one load of a version: concurrent callers share it; a failed load is forgotten so it can be retried. */
  #load(version: ModelVersion): Promise<ServedModel> {
    const k = key(version.name, version.version);
    const existing = this.#entries.get(k);
    if (existing?.ready) return Promise.resolve(existing.ready);
    if (existing?.loading) return existing.loading;
    const entry: Entry = { lastUsed: Date.now() };
    const started = Date.now();
    const { workers, logger } = this.#options;
    const placement = workers ? { ...workers, logger } : undefined;
    entry.loading = loadServedModel(this.registry, version, this.#options.load, placement).then(
      async (served) => {
        if (this.#closed) {
          await served.model.close();
          throw shuttingDown();
        }
        entry.ready = served;
        entry.loading = undefined;
        this.#options.logger.info(
          {
            model: version.name,
            version: version.version,
            ms: Date.now() - started,
            warmWorkers: workers && workers.maxWorkers > 0 ? workers.minWorkers : 0,
          },
          'model loaded and warmed up',
        );
        this.#evict();
        return served;
      },
      (err: unknown) => {
        this.#entries.delete(k);
        throw err;
      },
    );
    this.#entries.set(k, entry);
    return entry.loading;
  }

  /** Waits for a load, up to loadWaitMs; UNAVAILABLE past that (the load goes on). */
  async #wait(loading: Promise<ServedModel>, name: string, version: number): Promise<ServedModel> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MeridianError(
              'UNAVAILABLE',
              `model "${name}" version ${version} is still loading; retry in a few seconds`,
              {
                name,
                version,
                hint: `GET /v2/models/${name}/versions/${version}/ready answers true once it is loaded`,
              },
            ),
          ),
        this.#options.loadWaitMs,
      );
    });
    try {
      return await Promise.race([loading, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the least recently used versions past the bound, never one that answers by default. */
  #evict(): void {
    const loaded = [...this.#entries.entries()].filter(([, e]) => e.ready);
    let excess = loaded.length - this.#options.maxLoadedVersions;
    if (excess <= 0) return;
    const defaults = new Set([...this.#serving].map(([name, version]) => key(name, version)));
    const candidates = loaded
      .filter(([k]) => !defaults.has(k))
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [k, entry] of candidates) {
      if (excess-- <= 0) break;
      this.#entries.delete(k);
      this.#retire(entry.ready as ServedModel);
    }
  }

  /** Closes an evicted model after a grace period, so predictions already holding it can finish. */
  #retire(served: ServedModel): void {
    this.#retiring.add(served);
    const timer = setTimeout(() => {
      if (!this.#retiring.delete(served)) return;
      served.model.close().catch(() => undefined);
    }, this.#options.evictGraceMs);
    timer.unref();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.poll().finally(() => this.#schedule());
    }, this.#options.pollIntervalMs);
    this.#timer.unref();
  }

  #checkOpen(): void {
    if (this.#closed) throw shuttingDown();
  }
}

function shuttingDown(): MeridianError {
  return new MeridianError('UNAVAILABLE', 'the model server is shutting down; retry on another replica');
}
