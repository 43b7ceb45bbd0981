/** REST calls of a suite against a running platform, and a pipeline run followed to its end. */
import type { RunView } from '../../src/pipelines/types.js';

export type JsonCall = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

/** A JSON call against the base URL `url()` gives; a non-2xx answer throws with its body. */
export function jsonCall(url: () => string): JsonCall {
  return async (method, path, body) => {
    const response = await fetch(`${url()}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const parsed = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(parsed)}`);
    return parsed;
  };
}

/** Triggers `pipeline` with `params` and polls the run until it completes or fails. */
export async function runToEnd(
  call: JsonCall,
  pipeline: string,
  params: Record<string, unknown>,
  timeoutMs = 180_000,
): Promise<RunView> {
  const { runId } = (await call('POST', `/v1/pipelines/${pipeline}/runs`, { params })) as { runId: string };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await call('GET', `/v1/runs/${runId}`)) as unknown as RunView;
    if (run.status === 'COMPLETED' || run.status === 'FAILED') return run;
    if (Date.now() > deadline) throw new Error(`${pipeline} run ${runId} still ${run.status}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}
