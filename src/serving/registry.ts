/**
 * The model registry: models and their versions in the state store, model files in the artifact
 * store. A push is validated by loading the file with its runtime before anything is stored, and
 * version numbers are handed out under the model row's lock, so concurrent pushes never collide.
 * The SQL is in registry-rows.ts, stage transitions in registry-stage.ts, model files in
 * registry-artifacts.ts.
 */
import { MeridianError } from '../core/errors.js';
import type { ArtifactStore } from '../stores/artifact/port.js';
import type { StateStore } from '../stores/state/port.js';
import { MODEL_REGISTRY_MIGRATIONS } from './migrations.js';
import {
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
} from './model-version.js';
import { publishProductionAlias } from './registry-alias.js';
import { artifactPathOf, putImmutable, readVerifiedArtifact, signatureOf } from './registry-artifacts.js';
import {
  findProduction,
  findVersion,
  insertVersion,
  missingModel,
  missingVersion,
  modelExists,
  nextVersion,
  selectProductionVersions,
  selectSummaries,
  selectSummary,
  selectVersions,
} from './registry-rows.js';
import { changeStage, republishProduction, type StageChange } from './registry-stage.js';

export type { ModelDescription, ModelStage, ModelSummary, ModelVersion, PushInput } from './model-version.js';
export type { StageChange } from './registry-stage.js';

/** Version numbers a push skips, at most, because their folder already holds other files. */
const MAX_TAKEN_VERSIONS = 10;

function versionsTaken(name: string, path: string): MeridianError {
  return new MeridianError(
    'FAILED_PRECONDITION',
    `model "${name}": the artifact store already holds other files at ${path} and the ${MAX_TAKEN_VERSIONS - 1} version paths before it, which no registered version owns; stored model files are never overwritten, so remove the stray files or use another model name`,
    { name, artifactPath: path },
  );
}

/** Models, their versions and stages, and their files: what pushes, promotions and serving read and write. */
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
    let created: string | undefined;
    try {
      return await this.state.transaction(async (tx) => {
        // A number whose folder holds other bytes (left by a registry whose state was reset) is
        // skipped rather than overwritten: stored model files are immutable.
        for (let attempt = 1; ; attempt++) {
          const version = await nextVersion(tx, push.name);
          const path = artifactPathOf(push.name, version, push.format);
          const stored = await putImmutable(this.artifacts, path, push.bytes);
          if (stored.outcome === 'created') created = path;
          if (stored.outcome !== 'taken') return insertVersion(tx, push, version, signature, stored.info);
          if (attempt === MAX_TAKEN_VERSIONS) throw versionsTaken(push.name, path);
        }
      });
    } catch (err) {
      if (created) await this.artifacts.delete(created).catch(() => false);
      throw err;
    }
  }

  /**
   * Moves a version to a stage. Promoting to production demotes the current production version to
   * staging in the same transaction, so exactly one version answers by default. The artifact
   * store's production alias is updated before that transaction commits; when the alias or the
   * commit fails, nothing changes in the registry and the alias is put back on the version that is
   * in production (best effort, under the model's lock: the registry, not the alias, is the source
   * of truth, and a repeated promotion repairs the alias).
   */
  async setStage(name: string, version: number, stage: ModelStage): Promise<StageChange> {
    checkName(name);
    checkVersion(version);
    checkStage(stage);
    let published = false;
    const publish = async (previous?: ModelVersion, next?: ModelVersion) => {
      published = true;
      await publishProductionAlias(this.artifacts, name, previous, next);
    };
    try {
      return await this.state.transaction((tx) => changeStage(tx, name, version, stage, publish));
    } catch (err) {
      if (published) {
        const restore = (previous?: ModelVersion, next?: ModelVersion) =>
          publishProductionAlias(this.artifacts, name, previous, next);
        await this.state.transaction((tx) => republishProduction(tx, name, restore)).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Every model with its latest and production version, by name. */
  async list(): Promise<ModelSummary[]> {
    return selectSummaries(this.state);
  }

  /** One model with all its versions, oldest first; NOT_FOUND names the model. */
  async describe(name: string): Promise<ModelDescription> {
    checkName(name);
    const summary = await selectSummary(this.state, name);
    if (!summary) throw missingModel(name);
    return { ...summary, versions: await selectVersions(this.state, name) };
  }

  /** One version; NOT_FOUND names the model or the version. */
  async version(name: string, version: number): Promise<ModelVersion> {
    checkName(name);
    checkVersion(version);
    const found = await findVersion(this.state, name, version);
    if (found) return found;
    throw await missingVersion(this.state, name, version);
  }

  /** The version in production; NOT_FOUND when the model is unknown or none is promoted. */
  async production(name: string): Promise<ModelVersion> {
    checkName(name);
    const found = await findProduction(this.state, name);
    if (found) return found;
    if (!(await modelExists(this.state, name))) throw missingModel(name);
    throw new MeridianError(
      'NOT_FOUND',
      `model "${name}" has no version in production; promote one with \`meridian models promote ${name} <version>\``,
      { field: 'name', name },
    );
  }

  /** The production version of every model that has one: what serving replicas poll. */
  async productionVersions(): Promise<Map<string, number>> {
    return selectProductionVersions(this.state);
  }

  /** The version's model file; DATA_CORRUPT when it is missing or its hash is not the one registered. */
  async readArtifact(version: ModelVersion): Promise<Uint8Array> {
    return readVerifiedArtifact(this.artifacts, version);
  }
}
