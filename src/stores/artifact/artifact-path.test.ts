import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { MAX_PATH_LENGTH, validateArtifactPath, validateArtifactPrefix } from './artifact-path.js';

function problemOf(run: () => unknown): MeridianError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(MeridianError);
    return err as MeridianError;
  }
  throw new Error('expected the value to be rejected');
}

describe('validateArtifactPath', () => {
  it('accepts relative slash-separated names, unicode and dots inside names included', () => {
    for (const path of [
      'model.onnx',
      'models/churn/3/model.onnx',
      'a/.hidden',
      'données/été.csv',
      'a..b/c',
      'x'.repeat(200),
    ]) {
      expect(validateArtifactPath(path)).toBe(path);
    }
  });

  it.each([
    ['', /must not be empty/],
    ['../x', /"\.\." segment/],
    ['a/../../x', /"\.\." segment/],
    ['/etc/passwd', /absolute/],
    ['C:\\x', /backslash/],
    ['C:/x', /drive letter/],
    ['\\\\server\\share', /backslash/],
    ['a\\b', /backslash/],
    ['a\0b', /control character/],
    ['a\nb', /control character/],
    ['a\u0085b', /control character/],
    ['a//b', /empty name/],
    ['a/', /ends with "\/"/],
    ['./a', /"\." segment/],
    ['name.', /ending with "\."/],
    ['.meridian-meta-x.json', /reserves/],
    ['d/.meridian-tmp-1', /reserves/],
    ['x'.repeat(201), /longer than 200 bytes/],
    [`${'abc/'.repeat(256)}x`, new RegExp(`limit is ${MAX_PATH_LENGTH}`)],
  ])('rejects %j naming path and saying what a valid path looks like', (path, problem) => {
    const err = problemOf(() => validateArtifactPath(path));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.details.field).toBe('path');
    expect(err.message).toMatch(problem);
    expect(err.message).toContain('relative path of slash-separated names');
  });

  it('rejects values that are not strings', () => {
    expect(problemOf(() => validateArtifactPath(7)).message).toContain('must be a string');
  });
});

describe('validateArtifactPrefix', () => {
  it('accepts an absent or empty prefix, a trailing slash and a partial name', () => {
    expect(validateArtifactPrefix(undefined)).toBe('');
    expect(validateArtifactPrefix('')).toBe('');
    expect(validateArtifactPrefix('models/')).toBe('models/');
    expect(validateArtifactPrefix('models/ch')).toBe('models/ch');
    expect(validateArtifactPrefix('models/v1.')).toBe('models/v1.');
  });

  it('rejects traversal, absolute and doubled-slash prefixes naming prefix', () => {
    for (const prefix of ['../', 'a/../', '/abs', 'a//', 'a\\b', 5]) {
      const err = problemOf(() => validateArtifactPrefix(prefix));
      expect(err.details.field).toBe('prefix');
    }
  });
});
