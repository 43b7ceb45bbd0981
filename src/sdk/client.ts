/**
 * The TypeScript SDK: a thin client of a running Meridian server's REST API. Every failure is a
 * MeridianError: the server's own code and message, or UNAVAILABLE naming the URL it could not reach.
 */
import type { z } from 'zod';
import { type ErrorCode, type ErrorDetails, MeridianError } from '../core/errors.js';
import type { definitionsSchema } from '../features/definitions.js';
import type { Plan, RegistryKind } from '../features/plan.js';

export type { Plan, RegistryKind } from '../features/plan.js';

/** Readonly all the way down, so the `as const` arrays the `define*` helpers keep are accepted. */
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** What `apply` accepts: the JSON payload of `POST /v1/apply`, which the `define*` helpers produce. */
export type DefinitionsInput = DeepReadonly<z.input<typeof definitionsSchema>>;

export interface MeridianClientOptions {
  /** The server's HTTP address, e.g. `http://127.0.0.1:8700`. */
  url: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

/** A registered object: its definition plus `createdAt`, `updatedAt` (views also `transformVersion`). */
export type RegistryObject = Record<string, unknown> & { name: string; createdAt: string; updatedAt: string };

const LIST_KEYS = {
  entities: 'entities',
  sources: 'sources',
  'feature-views': 'featureViews',
  'feature-services': 'featureServices',
} as const;

export class MeridianClient {
  readonly url: string;
  readonly #timeoutMs: number;

  constructor(options: MeridianClientOptions) {
    if (typeof options?.url !== 'string' || !/^https?:\/\/[^/]+/.test(options.url)) {
      throw new MeridianError(
        'INVALID_ARGUMENT',
        `url: "${String(options?.url)}" is not an http(s) URL; pass e.g. http://127.0.0.1:8700`,
        { field: 'url' },
      );
    }
    this.url = options.url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Applies a whole project's definitions (objects absent from them are removed); `dryRun` only plans. */
  apply(
    definitions: DefinitionsInput,
    options: { dryRun?: boolean } = {},
  ): Promise<{ plan: Plan; applied: boolean }> {
    const query = options.dryRun ? '?dryRun=true' : '';
    return this.request('POST', `/v1/apply${query}`, definitions);
  }

  /** Every registered object of a kind, by name. */
  async list(kind: RegistryKind): Promise<RegistryObject[]> {
    const body = await this.request<Record<string, RegistryObject[]>>('GET', `/v1/${kind}`);
    return body[LIST_KEYS[kind]] ?? [];
  }

  /** One registered object (a feature view with its `versions`); NOT_FOUND when there is none. */
  describe(kind: RegistryKind, name: string): Promise<RegistryObject> {
    return this.request('GET', `/v1/${kind}/${encodeURIComponent(name)}`);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.url}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw unreachable(this.url, err, this.#timeoutMs);
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok) return parsed as T;
    const error = parsed as { error?: string; code?: ErrorCode; details?: ErrorDetails } | undefined;
    throw new MeridianError(
      error?.code ?? 'INTERNAL',
      error?.error ?? `${method} ${url} answered ${response.status}: ${text.slice(0, 200)}`,
      error?.details ?? {},
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function unreachable(url: string, err: unknown, timeoutMs: number): MeridianError {
  if ((err as Error)?.name === 'TimeoutError') {
    return new MeridianError(
      'DEADLINE_EXCEEDED',
      `Meridian at ${url} did not answer within ${timeoutMs} ms; check the server's logs`,
      { url },
    );
  }
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new MeridianError(
    'UNAVAILABLE',
    `cannot reach Meridian at ${url} (${reason}); start it with \`meridian up\` or pass the right --url`,
    { url },
    { cause: err },
  );
}
