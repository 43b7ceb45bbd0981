import { describe, expect, it } from 'vitest';
import {
  GrpcStatus,
  invalidArgument,
  MeridianError,
  redactUrl,
  storeUnavailable,
  toMeridianError,
} from './errors.js';

describe('errors', () => {
  it('maps each code to one HTTP and one gRPC status', () => {
    const cases: [ConstructorParameters<typeof MeridianError>[0], number, number][] = [
      ['INVALID_ARGUMENT', 400, GrpcStatus.INVALID_ARGUMENT],
      ['NOT_FOUND', 404, GrpcStatus.NOT_FOUND],
      ['ALREADY_EXISTS', 409, GrpcStatus.ALREADY_EXISTS],
      ['UNAUTHENTICATED', 401, GrpcStatus.UNAUTHENTICATED],
      ['PERMISSION_DENIED', 403, GrpcStatus.PERMISSION_DENIED],
      ['STORE_UNAVAILABLE', 503, GrpcStatus.UNAVAILABLE],
      ['DATA_CORRUPT', 500, GrpcStatus.DATA_LOSS],
      ['INTERNAL', 500, GrpcStatus.INTERNAL],
    ];
    for (const [code, http, grpc] of cases) {
      const error = new MeridianError(code, 'x');
      expect([error.httpStatus, error.grpcStatus]).toEqual([http, grpc]);
    }
  });

  it('answers as {error, code, details} JSON', () => {
    const error = invalidArgument(
      'events[3].ts',
      'is not a timestamp',
      'send ISO-8601 with a zone or epoch ms',
    );
    expect(error.toJSON()).toEqual({
      error: 'events[3].ts: is not a timestamp; send ISO-8601 with a zone or epoch ms',
      code: 'INVALID_ARGUMENT',
      details: { field: 'events[3].ts', hint: 'send ISO-8601 with a zone or epoch ms' },
    });
  });

  it('names the store, the URL without its password and what was tried when a store is down', () => {
    const error = storeUnavailable(
      'state',
      'postgres://admin:s3cret@db:5432/meridian',
      'connect',
      new Error('ECONNREFUSED'),
    );
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain('postgres://admin:***@db:5432/meridian');
    expect(error.message).toContain('connect failed (ECONNREFUSED)');
    expect(error.message).not.toContain('s3cret');
  });

  it('hides a password given without a user name', () => {
    expect(redactUrl('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
  });

  it('hides Azure account keys in connection strings', () => {
    expect(redactUrl('AccountName=a;AccountKey=abc+/==;BlobEndpoint=http://x')).toBe(
      'AccountName=a;AccountKey=***;BlobEndpoint=http://x',
    );
  });

  it('wraps unknown throwables as INTERNAL and keeps MeridianErrors as they are', () => {
    const original = new MeridianError('NOT_FOUND', 'no model churn');
    expect(toMeridianError(original)).toBe(original);
    const wrapped = toMeridianError(new TypeError('x is undefined'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.message).toContain('x is undefined');
  });
});
