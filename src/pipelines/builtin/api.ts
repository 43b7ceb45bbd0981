/**
 * How built-in steps reach the other services: their public REST API at `pipelines.apiUrl`, never
 * their code (ARCHITECTURE §1), so a step runs the same on a worker of another machine.
 */
import { Transport } from '../../sdk/transport.js';
import type { StepContext } from '../types.js';

export interface PlatformApi {
  /** A JSON request (a FormData body is sent as multipart); the answer's JSON, or the server's error. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Steps move whole datasets: generous, but bounded, so a hung server fails the attempt. */
const TIMEOUT_MS = 600_000;

/** The REST API of the platform the step belongs to. */
export function platformApi(ctx: StepContext): PlatformApi {
  return new Transport(ctx.services.apiUrl.replace(/\/+$/, ''), TIMEOUT_MS);
}
