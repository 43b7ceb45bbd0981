/**
 * The model registry: models and their versions in the state store, model files in the artifact
 * store. A push is validated by loading the file with its runtime before anything is stored, and
 * version numbers are handed out under the model row's lock, so concurrent pushes never collide.
 */
import { createHash } from 'node:crypto';
import { isMeridianError, MeridianError } from '../core/errors.js';
import type { ArtifactStore } from '../stores/artifact/port.js';
import type { SqlExecutor, StateStore } from '../stores/state/port.js';
import { MODEL_REGISTRY_MIGRATIONS } from './migrations.js';
import {
  type CheckedPush,
  checkInputsFit,
  checkName,
  checkPush,
  checkStage,
  checkVersion,
  type ModelDescription,
  type ModelStage,
  type ModelSummary,
  type ModelVersion,
  type PushInput,
  type VersionRow,
  versionFromRow,
} from './model-version.js';
import { loadModel } from './runtimes/index.js';
import type { ModelFormat, ModelSignature } from './runtimes/model.js';

export type { ModelDescription, ModelStage, ModelSummary, ModelVersion, PushInput } from './model-version.js';

/** What a stage change did: the version as it is now, and the version it took production from. */
export interface StageChange {
  version: ModelVersion;
  demotedVersion?: number;
}

const EXTENSIONS: Record<ModelFormat, string> = { onnx: 'onnx', xgboost: 'json', lightgbm: 'txt' };
const VERSION_COLUMNS = `name, version, format, artifact_path, sha256, size, signature, inputs,
  feature_service, missing_policy, metrics, baseline, stage, created_by, created_at, stage_changed_at`;

interface SummaryRow {
  name: string;
  created_at: Date;
  last_version: number;
  production: number | null;
}

export class ModelRegistry {
  private constructor(
    private readonly state: StateStore,
    private readonly artifacts: ArtifactStore,
  ) {}

  /** Migrates the registry tables (versions 200-299) of the state store. */
  static async open(state: StateStore, artifacts: ArtifactStore): Promise<ModelRegistry> {
    await state.migrate(MODEL_REGISTRY_MIGRATIONS);
    return new ModelRegistry(state, artifacts);
  }

  /**
   * Registers a new version in `staging`. The file is loaded first: a corrupt or wrong-format file is
   * rejected with INVALID_ARGUMENT and nothing is stored.
   */
  async push(input: PushInput): Promise<ModelVersion> {
    const push = checkPush(input);
    const signature = await signatureOf(push);
    checkInputsFit(push.inputs, signature);
    let stored: string | undefined;
    try {
      return await this.state.transaction(async (tx) => {
        const version = await nextVersion(tx, push.name);
        stored = `models/${push.name}/${version}/model.${EXTENSIONS[push.format]}`;
        const info = await this.artifacts.put(stored, push.bytes, {
          contentType: 'application/octet-stream',
        });
        return insertVersion(tx, push, version, signature, info);
      });
    } catch (err) {
      if (stored) await this.artifacts.delete(stored).catch(() => false);
      throw err;
    }
  }

  /**
   * Moves a version to a stage. Promoting to production demotes the current production version to
   * staging in the same transaction, so exactly one version answers by default.
   */
  async setStage(name: string, version: number, stage: ModelStage): Promise<StageChange> {
    checkName(name);
    checkVersion(version);
    checkStage(stage);
    return this.state.transaction(async (tx) => {
      await lockModel(tx, name);
      const current = await findVersion(tx, name, version);
      if (!current) throw await this.missingVersion(tx, name, version);
      let demotedVersion: number | undefined;
      if (stage === 'production' && current.stage !== 'production') {
        const { rows } = await tx.query<{ version: number }>(
          `UPDATE model_versions SET stage = 'staging', stage_changed_at = now()
           WHERE name = $1 AND stage = 'production' RETURNING version`,
          [name],
        );
        if (rows[0]) demotedVersion = Number(rows[0].version);
      }
      if (current.stage === stage) return { version: current };
      const { rows } = await tx.query<VersionRow>(
        `UPDATE model_versions SET stage = $3, stage_changed_at = now() WHERE name = $1 AND version = $2
         RETURNING ${VERSION_COLUMNS}`,
        [name, version, stage],
      );
      const changed = versionFromRow(rows[0]!);
      return demotedVersion === undefined ? { version: changed } : { version: changed, demotedVersion };
    });
  }

  /** Every model with its latest and production version, by name. */
  async list(): Promise<ModelSummary[]> {
    const { rows } = await this.state.query<SummaryRow>(
      `SELECT m.name, m.created_at, m.last_version, p.version AS production
       FROM models m LEFT JOIN model_versions p ON p.name = m.name AND p.stage = 'production'
       ORDER BY m.name`,
    );
    return rows.map(summaryFromRow);
  }

  /** One model with all its versions, oldest first; NOT_FOUND names the model. */
  async describe(name: string): Promise<ModelDescription> {
    checkName(name);
    const { rows } = await this.state.query<SummaryRow>(
      `SELECT m.name, m.created_at, m.last_version, p.version AS production
       FROM models m LEFT JOIN model_versions p ON p.name = m.name AND p.stage = 'production'
       WHERE m.name = $1`,
      [name],
    );
    if (!rows[0]) throw missingModel(name);
    const versions = await this.state.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 ORDER BY version`,
      [name],
    );
    return { ...summaryFromRow(rows[0]), versions: versions.rows.map(versionFromRow) };
  }

  /** One version; NOT_FOUND names the model or the version. */
  async version(name: string, version: number): Promise<ModelVersion> {
    checkName(name);
    checkVersion(version);
    const found = await findVersion(this.state, name, version);
    if (found) return found;
    throw await this.missingVersion(this.state, name, version);
  }

  /** The version in production; NOT_FOUND when the model is unknown or none is promoted. */
  async production(name: string): Promise<ModelVersion> {
    checkName(name);
    const { rows } = await this.state.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 AND stage = 'production'`,
      [name],
    );
    if (rows[0]) return versionFromRow(rows[0]);
    const exists = await this.state.query('SELECT 1 FROM models WHERE name = $1', [name]);
    if (exists.rows.length === 0) throw missingModel(name);
    throw new MeridianError(
      'NOT_FOUND',
      `model "${name}" has no version in production; promote one with \`meridian models promote ${name} <version>\``,
      { field: 'name', name },
    );
  }

  /** The production version of every model that has one: what serving replicas poll. */
  async productionVersions(): Promise<Map<string, number>> {
    const { rows } = await this.state.query<{ name: string; version: number }>(
      `SELECT name, version FROM model_versions WHERE stage = 'production'`,
    );
    return new Map(rows.map((r) => [r.name, Number(r.version)]));
  }

  /** The version's model file; DATA_CORRUPT when it is missing or its hash is not the one registered. */
  async readArtifact(version: ModelVersion): Promise<Uint8Array> {
    const where = `model "${version.name}" version ${version.version} (${version.artifactPath})`;
    let bytes: Buffer;
    try {
      bytes = await this.artifacts.getBuffer(version.artifactPath);
    } catch (err) {
      if (!isMeridianError(err, 'NOT_FOUND')) throw err;
      throw corrupt(`the model file of ${where} is missing from the artifact store`, version);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== version.sha256) {
      throw corrupt(
        `the model file of ${where} has SHA-256 ${sha256}, not the registered ${version.sha256}`,
        version,
      );
    }
    return bytes;
  }

  private async missingVersion(sql: SqlExecutor, name: string, version: number): Promise<MeridianError> {
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
}

/** Loads the file with its runtime only to check it and read its signature. */
async function signatureOf(push: CheckedPush): Promise<ModelSignature> {
  let model: Awaited<ReturnType<typeof loadModel>>;
  try {
    model = await loadModel(push.format, push.bytes);
  } catch (err) {
    if (isMeridianError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new MeridianError(
      'INVALID_ARGUMENT',
      `file: is not a valid ${push.format} model (${reason}); check the file and --format`,
      { field: 'file' },
    );
  }
  try {
    return model.signature;
  } finally {
    await model.close();
  }
}

/** The next version number of a model, creating the model on its first push; holds its row lock. */
async function nextVersion(tx: SqlExecutor, name: string): Promise<number> {
  const { rows } = await tx.query<{ last_version: number }>(
    `INSERT INTO models (name, last_version) VALUES ($1, 1)
     ON CONFLICT (name) DO UPDATE SET last_version = models.last_version + 1
     RETURNING last_version`,
    [name],
  );
  return Number(rows[0]!.last_version);
}

async function insertVersion(
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

/** Serialises stage changes of one model across processes sharing one PostgreSQL. */
async function lockModel(tx: SqlExecutor, name: string): Promise<void> {
  await tx.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [name]);
}

async function findVersion(
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

function summaryFromRow(r: SummaryRow): ModelSummary {
  const summary: ModelSummary = {
    name: r.name,
    createdAt: r.created_at.toISOString(),
    latestVersion: Number(r.last_version),
  };
  if (r.production !== null) summary.productionVersion = Number(r.production);
  return summary;
}

function missingModel(name: string): MeridianError {
  return new MeridianError(
    'NOT_FOUND',
    `no model "${name}" in the registry; list them with GET /v1/models or push one with \`meridian models push\``,
    { field: 'name', name },
  );
}

function corrupt(message: string, version: ModelVersion): MeridianError {
  return new MeridianError('DATA_CORRUPT', `${message}; push the model again as a new version`, {
    name: version.name,
    version: version.version,
    artifactPath: version.artifactPath,
  });
}
