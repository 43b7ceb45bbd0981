/**
 * The one definition of a valid artifact path, shared by every artifact store so that a path accepted
 * by one backend is accepted, and means the same thing, on all of them.
 */
import { invalidArgument, type MeridianError } from '../../core/errors.js';

/** Azure Blob Storage caps blob names at 1024 characters; the local store keeps the same cap. */
export const MAX_PATH_LENGTH = 1024;
/** File systems cap a name at 255 bytes; the local store adds up to 20 bytes of bookkeeping to a name. */
export const MAX_SEGMENT_BYTES = 200;
/** Segments starting with this are the local store's sidecars and temp files, never artifacts. */
export const RESERVED_SEGMENT_PREFIX = '.meridian-';

const HINT = 'use a relative path of slash-separated names, e.g. models/churn/3/model.onnx';
// C0 and C1 control characters, DEL included: they break logs, URLs and file names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE = /^[A-Za-z]:$/;

/** Returns the path unchanged when it is a valid artifact path; throws INVALID_ARGUMENT naming `path` otherwise. */
export function validateArtifactPath(path: unknown, field = 'path'): string {
  if (typeof path !== 'string') throw invalidArgument(field, `must be a string, got ${typeof path}`, HINT);
  if (path.length === 0) throw invalidArgument(field, 'must not be empty', HINT);
  const problem = commonProblem(path) ?? segmentsProblem(path.split('/'), false);
  if (problem) throw invalid(field, path, problem);
  return path;
}

/**
 * Returns the prefix for `list` ('' when absent). A prefix follows the path rules, except that it may be
 * empty and may end with `/` or inside a name (`models/ch` matches `models/churn/...`).
 */
export function validateArtifactPrefix(prefix: unknown, field = 'prefix'): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string')
    throw invalidArgument(field, `must be a string, got ${typeof prefix}`, HINT);
  const problem = commonProblem(prefix) ?? segmentsProblem(prefix.split('/'), true);
  if (problem) throw invalid(field, prefix, problem);
  return prefix;
}

function invalid(field: string, value: string, problem: string): MeridianError {
  const shown = value.length > 80 ? `${JSON.stringify(value.slice(0, 80))}...` : JSON.stringify(value);
  return invalidArgument(field, `${shown} ${problem}`, HINT);
}

function commonProblem(path: string): string | null {
  if (path.length > MAX_PATH_LENGTH)
    return `is ${path.length} characters long; the limit is ${MAX_PATH_LENGTH}`;
  if (CONTROL.test(path)) return 'contains a NUL or control character';
  if (path.includes('\\')) return 'contains a backslash; separate names with "/"';
  if (path.startsWith('/')) return 'is absolute; paths are relative to the store';
  return null;
}

function segmentsProblem(segments: string[], isPrefix: boolean): string | null {
  if (DRIVE.test(segments[0] ?? '')) return 'starts with a drive letter; paths are relative to the store';
  const last = segments.length - 1;
  for (const [i, segment] of segments.entries()) {
    if (segment === '') {
      if (isPrefix && i === last) continue;
      return i === last ? 'ends with "/"; name the file' : 'has an empty name between slashes';
    }
    const problem = segmentProblem(segment, isPrefix && i === last);
    if (problem) return problem;
  }
  return null;
}

function segmentProblem(segment: string, partial: boolean): string | null {
  if (segment === '..') return 'contains a ".." segment; paths may not leave the store';
  if (segment === '.') return 'contains a "." segment; name each directory once';
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
    return `has a name longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  if (segment.startsWith(RESERVED_SEGMENT_PREFIX)) {
    return `has a name starting with "${RESERVED_SEGMENT_PREFIX}", which the store reserves for its own files`;
  }
  if (!partial && segment.endsWith('.')) {
    return 'has a name ending with "."; Azure Blob Storage and Windows drop trailing dots';
  }
  return null;
}
