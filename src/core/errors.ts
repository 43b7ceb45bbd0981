/**
 * Typed errors with stable codes. Every code maps to exactly one HTTP status and one gRPC status here,
 * so the HTTP and gRPC surfaces never decide that on their own.
 */

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), without importing grpc-js into core. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const CODES = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  CONFIG_INVALID: { http: 500, grpc: GrpcStatus.FAILED_PRECONDITION },
  NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  ALREADY_EXISTS: { http: 409, grpc: GrpcStatus.ALREADY_EXISTS },
  CONFLICT: { http: 409, grpc: GrpcStatus.ABORTED },
  FAILED_PRECONDITION: { http: 412, grpc: GrpcStatus.FAILED_PRECONDITION },
  UNAUTHENTICATED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  PERMISSION_DENIED: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  RESOURCE_EXHAUSTED: { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  DEADLINE_EXCEEDED: { http: 504, grpc: GrpcStatus.DEADLINE_EXCEEDED },
  STORE_UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  DATA_CORRUPT: { http: 500, grpc: GrpcStatus.DATA_LOSS },
  INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
} as const;

export type ErrorCode = keyof typeof CODES;

export interface ErrorDetails {
  /** The input field (JSON name or key path) that was wrong. */
  field?: string;
  /** What the caller should do about it. */
  hint?: string;
  [key: string]: unknown;
}

/** The one error type of Meridian: a stable code, a message that says what to do, optional details. */
export class MeridianError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeridianError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return CODES[this.code].http;
  }

  get grpcStatus(): number {
    return CODES[this.code].grpc;
  }

  /** The JSON body an API answers with. */
  toJSON(): { error: string; code: ErrorCode; details?: ErrorDetails } {
    const hasDetails = Object.keys(this.details).length > 0;
    return { error: this.message, code: this.code, ...(hasDetails ? { details: this.details } : {}) };
  }
}

/** Shorthand for an invalid-argument error naming the field and the fix. */
export function invalidArgument(field: string, problem: string, hint?: string): MeridianError {
  const message = hint ? `${field}: ${problem}; ${hint}` : `${field}: ${problem}`;
  return new MeridianError('INVALID_ARGUMENT', message, { field, ...(hint ? { hint } : {}) });
}

/** A store could not be reached: names the store, the URL (without credentials) and what was tried. */
export function storeUnavailable(store: string, url: string, tried: string, cause?: unknown): MeridianError {
  const reason = cause instanceof Error ? cause.message : cause ? String(cause) : 'no answer';
  return new MeridianError(
    'STORE_UNAVAILABLE',
    `${store} store at ${redactUrl(url)} is unavailable: ${tried} failed (${reason}); check that the server is running and the URL is right`,
    { store, url: redactUrl(url) },
    { cause },
  );
}

/** Removes a password from a URL or connection string before it is logged or returned. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/[^:/@]*:)[^@/]+@/, '$1***@')
    .replace(/(AccountKey=)[^;]+/i, '$1***')
    .replace(/(SharedAccessSignature=)[^;]+/i, '$1***');
}

/** Wraps anything thrown into a MeridianError, keeping MeridianErrors as they are. */
export function toMeridianError(err: unknown): MeridianError {
  if (err instanceof MeridianError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MeridianError('INTERNAL', `internal error: ${message}`, {}, { cause: err });
}

export function isMeridianError(err: unknown, code?: ErrorCode): err is MeridianError {
  return err instanceof MeridianError && (code === undefined || err.code === code);
}

/**
 * A call on a store after close(): STORE_UNAVAILABLE, because during shutdown that is what an
 * in-flight request meets, and a client should retry elsewhere.
 */
export function storeClosed(store: string, description: string): MeridianError {
  return new MeridianError(
    'STORE_UNAVAILABLE',
    `${store} store ${description} is closed; the process is shutting down or the store was closed, so open a new one`,
    { store },
  );
}
