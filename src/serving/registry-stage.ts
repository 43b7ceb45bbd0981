/**
 * Stage transitions of a model version. Promoting to production demotes the current production
 * version to staging in the same transaction, under the model row's lock, so exactly one version
 * answers by default even with several processes sharing one PostgreSQL.
 */
import type { SqlExecutor } from '../stores/state/port.js';
import type { ModelStage, ModelVersion, VersionRow } from './model-version.js';
import { versionFromRow } from './model-version.js';
import { findVersion, missingVersion, VERSION_COLUMNS } from './registry-rows.js';

/** What a stage change did: the version as it is now, and the version it took production from. */
export interface StageChange {
  version: ModelVersion;
  demotedVersion?: number;
}

/** Moves a version to `stage` inside transaction `tx`; NOT_FOUND names the model or the version. */
export async function changeStage(
  tx: SqlExecutor,
  name: string,
  version: number,
  stage: ModelStage,
): Promise<StageChange> {
  await lockModel(tx, name);
  const current = await findVersion(tx, name, version);
  if (!current) throw await missingVersion(tx, name, version);
  const demotedVersion =
    stage === 'production' && current.stage !== 'production' ? await demoteProduction(tx, name) : undefined;
  if (current.stage === stage) return { version: current };
  const { rows } = await tx.query<VersionRow>(
    `UPDATE model_versions SET stage = $3, stage_changed_at = now() WHERE name = $1 AND version = $2
     RETURNING ${VERSION_COLUMNS}`,
    [name, version, stage],
  );
  const changed = versionFromRow(rows[0]!);
  return demotedVersion === undefined ? { version: changed } : { version: changed, demotedVersion };
}

/** Moves the model's production version, if any, back to staging; returns its number. */
async function demoteProduction(tx: SqlExecutor, name: string): Promise<number | undefined> {
  const { rows } = await tx.query<{ version: number }>(
    `UPDATE model_versions SET stage = 'staging', stage_changed_at = now()
     WHERE name = $1 AND stage = 'production' RETURNING version`,
    [name],
  );
  return rows[0] ? Number(rows[0].version) : undefined;
}

/** Serialises stage changes of one model across processes sharing one PostgreSQL. */
async function lockModel(tx: SqlExecutor, name: string): Promise<void> {
  await tx.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [name]);
}
