/**
 * How built-in steps reach the other services: their public REST API at `pipelines.apiUrl`, never
 * their code (ARCHITECTURE §1), so a step runs the same on a worker of another machine.
 */
import { type ErrorCode, type ErrorDetails, MeridianError } from '../../core/errors.js';
import type { StepContext } from '../types.js';

export interface PlatformApi {
  /** A JSON request (a FormData body is sent as multipart); the answer's JSON, or the server's error. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Steps move whole datasets: generous, but bounded, so a hung server fails the attempt. */
const TIMEOUT_MS = 600_000;

/** The REST API of the platform the step belongs to. */
export function platformApi(ctx: StepContext): PlatformApi {
  const base = ctx.services.apiUrl.replace(/\/+$/, '');
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const init: RequestInit = {
        method,
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(TIMEOUT_MS)]),
      };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, init);
      } catch (err) {
        throw new MeridianError(
          'UNAVAILABLE',
          `step ${ctx.step} cannot reach Meridian at ${base} (${(err as Error).message}); check pipelines.apiUrl`,
          { url: base },
          { cause: err },
        );
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (response.ok) return parsed as T;
      const error = parsed as { error?: string; code?: ErrorCode; details?: ErrorDetails } | undefined;
      throw new MeridianError(
        error?.code ?? 'INTERNAL',
        `${method} ${path}: ${error?.error ?? `answered ${response.status}: ${text.slice(0, 200)}`}`,
        error?.details ?? {},
      );
    },
  };
}
