/**
 * Baselines of model versions: compute from an uploaded reference dataset, store, read back. A
 * second upload for a version replaces the first: a baseline uploaded with the wrong columns or file
 * must be fixable without a new model version, and windows always compare with the one stored now.
 * Uploads for one version run one at a time in this process, so the sample and the row match.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ArtifactStore } from '../../stores/artifact/port.js';
import type { StateStore } from '../../stores/state/port.js';
import type { ColumnChoice } from './columns.js';
import { computeBaseline } from './compute.js';
import { type BaselineProfile, BIN_PROBS, TOP_CATEGORIES } from './profile.js';
import type { ReferenceFile } from './reference.js';
import { samplePath } from './sample.js';
import { assertVersionExists, checkModel, checkModelVersion, loadBaseline, saveBaseline } from './store.js';

export interface BaselineDeps {
  state: StateStore;
  artifact: ArtifactStore;
  logger: Logger;
  clock?: Clock;
  /** Where DuckDB spills and the sample is written before upload (default the OS temp directory). */
  tmpDir?: string;
}

export interface BaselineService {
  /** Computes and stores the baseline of a version from its reference file, replacing any earlier one. */
  put(
    model: string,
    version: number | string,
    file: ReferenceFile,
    choice?: ColumnChoice,
  ): Promise<BaselineProfile>;
  /** The stored baseline; NOT_FOUND for an unknown version or a version without one. */
  get(model: string, version: number | string): Promise<BaselineProfile>;
}

/** The baseline service over a state store (migrated with BASELINE_MIGRATIONS) and an artifact store. */
export function createBaselineService(deps: BaselineDeps): BaselineService {
  const clock = deps.clock ?? systemClock;
  const running = new Map<string, Promise<unknown>>();

  async function compute(model: string, version: number, file: ReferenceFile, choice: ColumnChoice) {
    await assertVersionExists(deps.state, model, version);
    const workDir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'meridian-baseline-'));
    try {
      const started = clock.now();
      const computed = await computeBaseline(file, choice, workDir);
      const path = samplePath(model, version);
      const info = await deps.artifact.put(path, createReadStream(computed.sample.file), {
        contentType: 'application/vnd.apache.parquet',
      });
      const { file: _written, ...sample } = computed.sample;
      const profile: BaselineProfile = {
        model,
        version,
        rows: computed.rows,
        format: computed.format,
        features: computed.features,
        prediction: computed.prediction,
        label: computed.label,
        binning: { kind: 'equal-frequency', probs: [...BIN_PROBS], closed: 'right' },
        topCategories: TOP_CATEGORIES,
        columns: computed.columns,
        sample: { path, sha256: info.sha256, ...sample },
        createdAt: new Date(clock.now()).toISOString(),
      };
      await saveBaseline(deps.state, profile);
      deps.logger.info({ model, version, rows: profile.rows, ms: clock.now() - started }, 'baseline stored');
      return profile;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  return {
    async put(model, version, file, choice = {}) {
      const name = checkModel(model);
      const v = checkModelVersion(version);
      const key = `${name}\u0000${v}`;
      const previous = running.get(key) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => compute(name, v, file, choice));
      running.set(key, next);
      try {
        return await next;
      } finally {
        if (running.get(key) === next) running.delete(key);
      }
    },
    async get(model, version) {
      return loadBaseline(deps.state, checkModel(model), checkModelVersion(version));
    },
  };
}
