/** What every store adapter has: a name for messages, a liveness check and an explicit close. */
export interface Store {
  /** Short kind and redacted location, e.g. `redis://127.0.0.1:6379/0`; used in logs and readiness answers. */
  readonly description: string;
  /** Resolves when the store answers a trivial request; rejects with STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Flushes what is buffered and releases connections and files. Safe to call twice. */
  close(): Promise<void>;
}

/** What a store factory gets besides its URL. */
export interface StoreContext {
  /** Where embedded stores keep their files when their URL names no path. */
  dataDir: string;
  logger: import('pino').Logger;
  /** Connection string for `azure:<container>` artifact stores. */
  azureConnectionString?: string;
}
