/** Assertions on the MeridianErrors a call rejects with, shared by every suite. */
import { expect } from 'vitest';
import { type ErrorCode, MeridianError } from '../../src/core/errors.js';

/** The error a promise rejects with; fails the test when it resolves or rejects with anything but a MeridianError. */
export async function rejection(promise: Promise<unknown>): Promise<MeridianError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection, but the call succeeded'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(MeridianError);
  return outcome as MeridianError;
}

/** Asserts the promise rejects with this code (and field, when given); returns the error for more checks. */
export async function expectCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  field?: string,
): Promise<MeridianError> {
  const err = await rejection(promise);
  expect(err.code, err.message).toBe(code);
  if (field !== undefined) expect(err.details.field, err.message).toBe(field);
  return err;
}

/** Asserts INVALID_ARGUMENT naming the field, in details and in the message. */
export async function expectInvalid(promise: Promise<unknown>, field: string): Promise<MeridianError> {
  const err = await expectCode(promise, 'INVALID_ARGUMENT', field);
  expect(err.message).toContain(field.split('.')[0]!.split('[')[0]);
  return err;
}
