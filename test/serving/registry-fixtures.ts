/** Real model files for the registry, resolver and route suites, and stores to register them in. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { ModelRegistry } from '../../src/serving/registry.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import type { PgliteTemplate } from '../helpers/pglite-template.js';

/** LightGBM's own fixtures, checked out beside the repo (see its README). */
export const LIGHTGBM_FIXTURES = join(process.cwd(), '..', 'shared', 'fixtures', 'lightgbm');

/** The bytes of a LightGBM fixture model: binary_categorical (10 features), multiclass (10), regression (15). */
export function lightgbmModel(name: 'binary_categorical' | 'multiclass' | 'regression'): Uint8Array {
  return readFileSync(join(LIGHTGBM_FIXTURES, name, 'model.txt'));
}

export interface RegistryFixture {
  state: StateStore;
  artifacts: ArtifactStore;
  artifactDir: string;
  registry: ModelRegistry;
  close(): Promise<void>;
}

/** A registry on a fresh copy of the PGlite template and a fresh local artifact store. */
export async function openRegistry(template: PgliteTemplate): Promise<RegistryFixture> {
  const dir = template.freshDir();
  const ctx = { dataDir: template.root, logger: silentLogger };
  const state = await createStateStore(`pglite:${dir}`, ctx);
  const artifactDir = `${dir}-artifacts`;
  const artifacts = await createArtifactStore(`file:${artifactDir}`, ctx);
  const registry = await ModelRegistry.open(state, artifacts);
  return {
    state,
    artifacts,
    artifactDir,
    registry,
    async close() {
      await artifacts.close();
      await state.close();
    },
  };
}

/** Builds the template: a state store with the model registry tables already migrated. */
export async function prepareTemplate(templateDir: string, root: string): Promise<void> {
  const ctx = { dataDir: root, logger: silentLogger };
  const state = await createStateStore(`pglite:${templateDir}`, ctx);
  const artifacts = await createArtifactStore(`file:${join(root, 'template-artifacts')}`, ctx);
  await ModelRegistry.open(state, artifacts);
  await artifacts.close();
  await state.close();
}
