/**
 * Stage transitions of a model version. Promoting to production demotes the current production
 * version to staging in the same transaction, under the model row's lock, so exactly one version
 * answers by default even with several processes sharing one PostgreSQL. A change of the production
 * version is published (the artifact store's production alias) inside that transaction, still under
 * the lock: a failed publish rolls the change back, and promotions of one model never interleave.
 */
import type { SqlExecutor } from '../stores/state/port.js';
import type { ModelStage, ModelVersion, VersionRow } from './model-version.js';
import { versionFromRow } from './model-version.js';
import { findProduction, findVersion, missingVersion, VERSION_COLUMNS } from './registry-rows.js';

/** What a stage change did: the version as it is now, and the version it took production from. */
export interface StageChange {
  version: ModelVersion;
  demotedVersion?: number;
}

/** Told the production version before and after a change (either absent); throwing rolls it back. */
export type PublishProduction = (previous?: ModelVersion, next?: ModelVersion) => Promise<void>;

/**
 * Moves a version to `stage` inside transaction `tx`; NOT_FOUND names the model or the version.
 * `publish` runs when the change involves production, also for a repeated promotion (which repairs
 * an alias a failed compensation left behind).
 */
export async function changeStage(
  tx: SqlExecutor,
  name: string,
  version: number,
  stage: ModelStage,
  publish?: PublishProduction,
): Promise<StageChange> {
  await lockModel(tx, name);
  const current = await findVersion(tx, name, version);
  if (!current) throw await missingVersion(tx, name, version);
  const previous = await findProduction(tx, name);
  const demotedVersion =
    stage === 'production' && current.stage !== 'production' ? await demoteProduction(tx, name) : undefined;
  const changed = current.stage === stage ? current : await updateStage(tx, name, version, stage);
  if (stage === 'production') await publish?.(previous, changed);
  else if (previous?.version === version) await publish?.(previous, undefined);
  return demotedVersion === undefined ? { version: changed } : { version: changed, demotedVersion };
}

/**
 * Publishes the production version the registry holds now, under the model row's lock: puts the
 * alias back after a failed change, without racing a promotion that succeeded meanwhile.
 */
export async function republishProduction(
  tx: SqlExecutor,
  name: string,
  publish: PublishProduction,
): Promise<void> {
  await lockModel(tx, name);
  await publish(undefined, await findProduction(tx, name));
}

async function updateStage(
  tx: SqlExecutor,
  name: string,
  version: number,
  stage: ModelStage,
): Promise<ModelVersion> {
  const { rows } = await tx.query<VersionRow>(
    `UPDATE model_versions SET stage = $3, stage_changed_at = now() WHERE name = $1 AND version = $2
     RETURNING ${VERSION_COLUMNS}`,
    [name, version, stage],
  );
  return versionFromRow(rows[0]!);
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
