import { toMeridianError } from '../core/errors.js';
import type { StoreName, Stores } from '../stores/index.js';

export interface StoreStatus {
  ok: boolean;
  at: string;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  stores: Partial<Record<StoreName, StoreStatus>>;
  /** One sentence naming every store that did not answer; absent when ready. */
  reason?: string;
}

/** Pings every open store at once, each bounded by timeoutMs, and says which did not answer. */
export async function checkReadiness(stores: Stores, timeoutMs = 2000): Promise<Readiness> {
  const entries = Object.entries(stores).filter(([, s]) => s !== undefined) as [
    StoreName,
    NonNullable<Stores[StoreName]>,
  ][];
  const results = await Promise.all(
    entries.map(async ([name, store]): Promise<[StoreName, StoreStatus]> => {
      try {
        await withTimeout(store.ping(), timeoutMs, `no answer within ${timeoutMs} ms`);
        return [name, { ok: true, at: store.description }];
      } catch (err) {
        return [name, { ok: false, at: store.description, error: toMeridianError(err).message }];
      }
    }),
  );
  const down = results.filter(([, s]) => !s.ok);
  const readiness: Readiness = { ready: down.length === 0, stores: Object.fromEntries(results) };
  if (down.length > 0) {
    readiness.reason = down.map(([name, s]) => `${name} store (${s.at}) is not ready: ${s.error}`).join('; ');
  }
  return readiness;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
