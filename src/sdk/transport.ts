/**
 * The SDK's one HTTP transport: sends a request to a running Meridian server and turns every failure
 * into a MeridianError: the server's own code and message, or UNAVAILABLE naming the URL it could not
 * reach. Every client of the SDK (features, models) sends through it.
 */
import { type ErrorCode, type ErrorDetails, MeridianError } from '../core/errors.js';

/** A request body fetch can send as is. */
export type TransportBody = string | FormData | Uint8Array | undefined;

/** Codes of the answers that carry no Meridian error body (the OIP `/v2` routes answer `{"error"}`). */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'FAILED_PRECONDITION',
  413: 'RESOURCE_EXHAUSTED',
  429: 'RESOURCE_EXHAUSTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export class Transport {
  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  /** Sends a JSON body (or none) and answers the parsed JSON answer. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, {
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await readJson(response)) as T;
  }

  /** Sends a multipart form and answers the parsed JSON answer. */
  async form<T>(method: string, path: string, form: FormData): Promise<T> {
    return (await readJson(await this.send(method, path, { headers: {}, body: form }))) as T;
  }

  /** A JSON body, or a multipart one when `body` is FormData. */
  call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return body instanceof FormData ? this.form<T>(method, path, body) : this.request<T>(method, path, body);
  }

  /** Sends the request; any answer but 2xx becomes the server's MeridianError. */
  async send(
    method: string,
    path: string,
    init: { headers: Record<string, string>; body: TransportBody },
  ): Promise<Response> {
    const url = `${this.url}${path}`;
    let response: Response;
    try {
      response = await fetch(url, { method, ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw unreachable(this.url, err, this.timeoutMs);
    }
    if (response.ok) return response;
    const text = await response.text();
    const error = parseJson(text) as { error?: string; code?: ErrorCode; details?: ErrorDetails } | undefined;
    throw new MeridianError(
      error?.code ?? STATUS_CODES[response.status] ?? 'INTERNAL',
      error?.error ?? `${method} ${url} answered ${response.status}: ${text.slice(0, 200)}`,
      error?.details ?? {},
    );
  }
}

/** The answer's body as JSON (undefined when it is not JSON). */
export async function readJson(response: Response): Promise<unknown> {
  return parseJson(await response.text());
}

/** The parsed JSON, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
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
