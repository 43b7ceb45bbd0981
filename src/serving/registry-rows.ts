/**
 * The model registry's SQL: reading and writing `models` and `model_versions` rows, and the
 * NOT_FOUND errors that name what a lookup could not find.
 */
import { MeridianError } from '../core/errors.js';
import type { SqlExecutor } from '../stores/state/port.js';
import {
  type CheckedPush,
  type ModelSummary,
  type ModelVersion,
  type VersionRow,
  versionFromRow,
} from './model-version.js';
import type { ModelSignature } from './runtimes/model.js';

/** Every column of a `model_versions` row, in the order `versionFromRow` reads them. */
export const VERSION_COLUMNS = `name, version, format, artifact_path, sha256, size, signature, inputs,
  feature_service, missing_policy, metrics, baseline, stage, created_by, created_at, stage_changed_at`;

interface SummaryRow {
  name: string;
  created_at: Date;
  last_version: number;
  production: number | null;
}

const SUMMARY_SELECT = `SELECT m.name, m.created_at, m.last_version, p.version AS production
  FROM models m LEFT JOIN model_versions p ON p.name = m.name AND p.stage = 'production'`;

/** Every model with its latest and production version, by name. */
export async function selectSummaries(sql: SqlExecutor): Promise<ModelSummary[]> {
  const { rows } = await sql.query<SummaryRow>(`${SUMMARY_SELECT} ORDER BY m.name`);
  return rows.map(summaryFromRow);
}

/** One model's summary, or undefined when it is not registered. */
export async function selectSummary(sql: SqlExecutor, name: string): Promise<ModelSummary | undefined> {
  const { rows } = await sql.query<SummaryRow>(`${SUMMARY_SELECT} WHERE m.name = $1`, [name]);
  return rows[0] ? summaryFromRow(rows[0]) : undefined;
}

/** Every version of a model, oldest first. */
export async function selectVersions(sql: SqlExecutor, name: string): Promise<ModelVersion[]> {
  const { rows } = await sql.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 ORDER BY version`,
    [name],
  );
  return rows.map(versionFromRow);
}

/** One version, or undefined when the model or the version is not registered. */
export async function findVersion(
  sql: SqlExecutor,
  name: string,
  version: number,
): Promise<ModelVersion | undefined> {
  const { rows } = await sql.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 AND version = $2`,
    [name, version],
  );
  return rows[0] ? versionFromRow(rows[0]) : undefined;
}

/** The model's version in production, or undefined when none is. */
export async function findProduction(sql: SqlExecutor, name: string): Promise<ModelVersion | undefined> {
  const { rows } = await sql.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 AND stage = 'production'`,
    [name],
  );
  return rows[0] ? versionFromRow(rows[0]) : undefined;
}

/** The production version number of every model that has one. */
export async function selectProductionVersions(sql: SqlExecutor): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ name: string; version: number }>(
    `SELECT name, version FROM model_versions WHERE stage = 'production'`,
  );
  return new Map(rows.map((r) => [r.name, Number(r.version)]));
}

/** Whether a model of this name is registered. */
export async function modelExists(sql: SqlExecutor, name: string): Promise<boolean> {
  const { rows } = await sql.query('SELECT 1 FROM models WHERE name = $1', [name]);
  return rows.length > 0;
}

/** The next version number of a model, creating the model on its first push; holds its row lock. */
export async function nextVersion(tx: SqlExecutor, name: string): Promise<number> {
  const { rows } = await tx.query<{ last_version: number }>(
    `INSERT INTO models (name, last_version) VALUES ($1, 1)
     ON CONFLICT (name) DO UPDATE SET last_version = models.last_version + 1
     RETURNING last_version`,
    [name],
  );
  return Number(rows[0]!.last_version);
}

/** Inserts a pushed version in `staging`, its file already stored at `artifact.path`. */
export async function insertVersion(
  tx: SqlExecutor,
  push: CheckedPush,
  version: number,
  signature: ModelSignature,
  artifact: { path: string; sha256: string; size: number },
): Promise<ModelVersion> {
  const { rows } = await tx.query<VersionRow>(
    `INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, inputs,
       feature_service, metrics, baseline, stage, created_by, missing_policy)
     VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8::json, $9, $10::json, $11, 'staging', $12, $13::json)
     RETURNING ${VERSION_COLUMNS}`,
    [
      push.name,
      version,
      push.format,
      artifact.path,
      artifact.sha256,
      artifact.size,
      JSON.stringify(signature),
      push.inputs ? JSON.stringify(push.inputs) : null,
      push.featureService ?? null,
      push.metrics ? JSON.stringify(push.metrics) : null,
      push.baseline ?? null,
      push.createdBy,
      push.missingPolicy ? JSON.stringify(push.missingPolicy) : null,
    ],
  );
  return versionFromRow(rows[0]!);
}

/** NOT_FOUND naming the model, or the version and the versions the model has. */
export async function missingVersion(
  sql: SqlExecutor,
  name: string,
  version: number,
): Promise<MeridianError> {
  const { rows } = await sql.query<{ last_version: number }>(
    'SELECT last_version FROM models WHERE name = $1',
    [name],
  );
  if (!rows[0]) return missingModel(name);
  return new MeridianError(
    'NOT_FOUND',
    `model "${name}" has no version ${version} (it has versions 1-${rows[0].last_version}); list them with GET /v1/models/${name}`,
    { field: 'version', name, version },
  );
}

/** NOT_FOUND naming a model the registry does not have. */
export function missingModel(name: string): MeridianError {
  return new MeridianError(
    'NOT_FOUND',
    `no model "${name}" in the registry; list them with GET /v1/models or push one with \`meridian models push\``,
    { field: 'name', name },
  );
}

function summaryFromRow(r: SummaryRow): ModelSummary {
  const summary: ModelSummary = {
    name: r.name,
    createdAt: r.created_at.toISOString(),
    latestVersion: Number(r.last_version),
  };
  if (r.production !== null) summary.productionVersion = Number(r.production);
  return summary;
}
