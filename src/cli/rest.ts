/**
 * The CLI's client of a running server's REST API: one request helper that turns an unreachable
 * server into a hint to start it, and an error answer back into the server's typed error.
 */
import { type ErrorCode, type ErrorDetails, MeridianError } from '../core/errors.js';

/** The server the commands talk to unless --url says otherwise. */
export const DEFAULT_URL = process.env.MERIDIAN_URL ?? 'http://127.0.0.1:8700';
const TIMEOUT_MS = 120_000;

/** One JSON (or multipart) request; resolves to the parsed answer or throws the server's error. */
export async function request<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  const init: RequestInit = { method, signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new MeridianError(
      'UNAVAILABLE',
      `cannot reach Meridian at ${base} (${cause}); start it with \`meridian up\` or pass the right --url`,
      { url: base },
    );
  }
  const text = await response.text();
  const parsed = parseJson(text) as { error?: string; code?: ErrorCode; details?: ErrorDetails } | undefined;
  if (response.ok) return parsed as T;
  throw new MeridianError(
    parsed?.code ?? 'INTERNAL',
    parsed?.error ?? `${method} ${url} answered ${response.status}: ${text.slice(0, 200)}`,
    parsed?.details ?? {},
  );
}

/** The parsed JSON, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
