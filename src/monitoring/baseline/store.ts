/**
 * Baselines in the state store. The model version is checked in the registry's own table
 * (`model_versions`), read directly: monitoring never imports the model server.
 */
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { SqlExecutor } from '../../stores/state/port.js';
import type { BaselineProfile } from './profile.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The model name, checked as the registry checks it. */
export function checkModel(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalidArgument(
      'name',
      `${JSON.stringify(value)} is not a valid model name`,
      'use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit',
    );
  }
  return value;
}

/** A positive integer version; accepts its decimal text (from a URL). */
export function checkModelVersion(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw invalidArgument(
      'version',
      `${JSON.stringify(value)} is not a version number`,
      'versions are 1, 2, 3, ...',
    );
  }
  return n;
}

/** Throws NOT_FOUND naming the model and version unless the registry has that version. */
export async function assertVersionExists(sql: SqlExecutor, model: string, version: number): Promise<void> {
  const found = await sql.query('SELECT 1 FROM model_versions WHERE name = $1 AND version = $2', [
    model,
    version,
  ]);
  if (found.rows.length === 0) {
    throw new MeridianError(
      'NOT_FOUND',
      `model "${model}" has no version ${version}; push it first, or list versions with GET /v1/models/${model}`,
      { model, version },
    );
  }
}

/** Stores the profile as the version's baseline, replacing an earlier one. */
export async function saveBaseline(sql: SqlExecutor, profile: BaselineProfile): Promise<void> {
  await sql.query(
    `INSERT INTO model_baselines (model, version, profile, sample_artifact, sample_sha256, rows, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (model, version) DO UPDATE SET profile = EXCLUDED.profile,
       sample_artifact = EXCLUDED.sample_artifact, sample_sha256 = EXCLUDED.sample_sha256,
       rows = EXCLUDED.rows, created_at = EXCLUDED.created_at`,
    [
      profile.model,
      profile.version,
      JSON.stringify(profile),
      profile.sample.path,
      profile.sample.sha256,
      profile.rows,
      new Date(profile.createdAt),
    ],
  );
}

/** The version's baseline; NOT_FOUND says whether the version or only its baseline is missing. */
export async function loadBaseline(
  sql: SqlExecutor,
  model: string,
  version: number,
): Promise<BaselineProfile> {
  const found = await sql.query<{ profile: unknown }>(
    'SELECT profile FROM model_baselines WHERE model = $1 AND version = $2',
    [model, version],
  );
  const row = found.rows[0];
  if (row)
    return (typeof row.profile === 'string' ? JSON.parse(row.profile) : row.profile) as BaselineProfile;
  await assertVersionExists(sql, model, version);
  throw new MeridianError(
    'NOT_FOUND',
    `model "${model}" version ${version} has no baseline; upload its reference dataset with PUT /v1/models/${model}/versions/${version}/baseline`,
    { model, version },
  );
}
