/**
 * The CLI's client of a running server's REST API: the SDK's transport (an unreachable server
 * becomes a hint to start it, an error answer the server's typed error), with a long timeout.
 */
import { parseJson, Transport } from '../sdk/transport.js';

export { parseJson };

/** The server the commands talk to unless --url says otherwise. */
export const DEFAULT_URL = process.env.MERIDIAN_URL ?? 'http://127.0.0.1:8700';
const TIMEOUT_MS = 120_000;

/** One JSON (or multipart) request; resolves to the parsed answer or throws the server's error. */
export function request<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  return new Transport(base.replace(/\/+$/, ''), TIMEOUT_MS).call<T>(method, path, body);
}
