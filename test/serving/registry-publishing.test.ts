import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { ModelRegistry } from '../../src/serving/registry.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { expectCode } from '../helpers/errors.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { type RunningServer, serverAvailable, startAzurite, tempStoreDir } from '../helpers/servers.js';
import { lightgbmModel, prepareTemplate } from './registry-fixtures.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const binary = lightgbmModel('binary_categorical');
const regression = lightgbmModel('regression');
const multiclass = lightgbmModel('multiclass');
const onnx = readFileSync('test/fixtures/sklearn-onnx/logistic-regression-binary/model.onnx');

interface Fixture {
  state: StateStore;
  artifacts: ArtifactStore;
  registry: ModelRegistry;
}

const template = pgliteTemplate('model-publishing', prepareTemplate);

/** The blobs directly in `Model_{name}/` (the alias copies), by file name, as SHA-256s. */
async function aliases(artifacts: ArtifactStore, name: string): Promise<Record<string, string>> {
  const folder = `Model_${name}/`;
  const out: Record<string, string> = {};
  for (const blob of await artifacts.list(folder)) {
    const file = blob.path.slice(folder.length);
    if (!file.includes('/')) out[file] = sha256(await artifacts.getBuffer(blob.path));
  }
  return out;
}

const push = (f: Fixture, name: string, bytes: Uint8Array, format: 'lightgbm' | 'onnx' = 'lightgbm') =>
  f.registry.push({ name, format, bytes });

/** The publishing specification, run against one artifact store. */
function publishingSuite(openArtifacts: () => Promise<ArtifactStore>): void {
  let f: Fixture;
  beforeAll(async () => {
    const ctx = { dataDir: template.root, logger: silentLogger };
    const state = await createStateStore(`pglite:${template.freshDir()}`, ctx);
    const artifacts = await openArtifacts();
    f = { state, artifacts, registry: await ModelRegistry.open(state, artifacts) };
  });
  afterAll(async () => {
    await f?.artifacts.close();
    await f?.state.close();
  });

  it('stores each new version under Model_{name}/v{version}/', async () => {
    const v1 = await push(f, 'paths', binary);
    const v2 = await push(f, 'paths', onnx, 'onnx');
    expect([v1.artifactPath, v2.artifactPath]).toEqual([
      'Model_paths/v1/model.txt',
      'Model_paths/v2/model.onnx',
    ]);
    expect(sha256(await f.registry.readArtifact(v2))).toBe(sha256(onnx));
  });

  it('never overwrites a stored file: a number whose folder holds other bytes is skipped', async () => {
    await f.artifacts.put('Model_stray/v1/model.txt', regression);
    const v = await push(f, 'stray', binary);
    expect(v.version).toBe(2);
    expect(v.artifactPath).toBe('Model_stray/v2/model.txt');
    expect(sha256(await f.artifacts.getBuffer('Model_stray/v1/model.txt'))).toBe(sha256(regression));
  });

  it('reuses a stored file with the same bytes, as a retried push that never committed left it', async () => {
    await f.artifacts.put('Model_retry/v1/model.txt', binary);
    const v = await push(f, 'retry', binary);
    expect([v.version, v.sha256]).toEqual([1, sha256(binary)]);
  });

  it('copies the production files to _Production and the previous production files to no suffix', async () => {
    await push(f, 'churn', binary);
    await push(f, 'churn', regression);
    await push(f, 'churn', multiclass);
    await f.registry.setStage('churn', 1, 'production');
    expect(await aliases(f.artifacts, 'churn')).toEqual({ 'model.txt_Production': sha256(binary) });
    await f.registry.setStage('churn', 2, 'production');
    expect(await aliases(f.artifacts, 'churn')).toEqual({
      'model.txt_Production': sha256(regression),
      'model.txt': sha256(binary),
    });
    await f.registry.setStage('churn', 3, 'production');
    expect(await aliases(f.artifacts, 'churn')).toEqual({
      'model.txt_Production': sha256(multiclass),
      'model.txt': sha256(regression),
    });
    const files = (await f.artifacts.list('Model_churn/v')).map((b) => b.path);
    expect(files).toEqual([
      'Model_churn/v1/model.txt',
      'Model_churn/v2/model.txt',
      'Model_churn/v3/model.txt',
    ]);
  });

  it('keeps exactly one _Production set when the file names of the versions differ', async () => {
    await push(f, 'mixed', binary);
    await push(f, 'mixed', onnx, 'onnx');
    await f.registry.setStage('mixed', 1, 'production');
    await f.registry.setStage('mixed', 2, 'production');
    expect(await aliases(f.artifacts, 'mixed')).toEqual({
      'model.onnx_Production': sha256(onnx),
      'model.txt': sha256(binary),
    });
  });

  it('drops the suffix when the production version is archived, leaving no production alias', async () => {
    await push(f, 'retired', binary);
    await f.registry.setStage('retired', 1, 'production');
    await f.registry.setStage('retired', 1, 'archived');
    expect(await aliases(f.artifacts, 'retired')).toEqual({ 'model.txt': sha256(binary) });
  });

  it('leaves the registry and the alias on the old production version when publishing fails', async () => {
    await push(f, 'broken', binary);
    const v2 = await push(f, 'broken', regression);
    await f.registry.setStage('broken', 1, 'production');
    // Other bytes behind version 2's path: its copy cannot have the registered SHA-256.
    await f.artifacts.put(v2.artifactPath, multiclass);
    await expectCode(f.registry.setStage('broken', 2, 'production'), 'DATA_CORRUPT');
    expect((await f.registry.production('broken')).version).toBe(1);
    expect((await f.registry.version('broken', 2)).stage).toBe('staging');
    expect((await aliases(f.artifacts, 'broken'))['model.txt_Production']).toBe(sha256(binary));
  });

  it('keeps the registered path of a version stored under the earlier layout', async () => {
    const v = await push(f, 'legacy', binary);
    const legacyPath = 'models/legacy/1/model.txt';
    await f.artifacts.put(legacyPath, binary);
    await f.artifacts.delete(v.artifactPath);
    await f.state.query('UPDATE model_versions SET artifact_path = $1 WHERE name = $2', [
      legacyPath,
      'legacy',
    ]);
    const legacy = await f.registry.version('legacy', 1);
    expect(legacy.artifactPath).toBe(legacyPath);
    expect(sha256(await f.registry.readArtifact(legacy))).toBe(sha256(binary));
    await f.registry.setStage('legacy', 1, 'production');
    expect(await aliases(f.artifacts, 'legacy')).toEqual({ 'model.txt_Production': sha256(binary) });
    expect((await push(f, 'legacy', regression)).artifactPath).toBe('Model_legacy/v2/model.txt');
  });
}

describe('model publishing on the file artifact store', () => {
  publishingSuite(async () => {
    const ctx = { dataDir: tempStoreDir('model-publishing'), logger: silentLogger };
    return createArtifactStore(`file:${ctx.dataDir}`, ctx);
  });
});

describe.runIf(serverAvailable('azurite'))('model publishing on Azurite', () => {
  let azurite: RunningServer;
  beforeAll(async () => {
    azurite = await startAzurite();
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
  });
  publishingSuite(async () => {
    const ctx = {
      dataDir: tempStoreDir('model-publishing-azure'),
      logger: silentLogger,
      azureConnectionString: azurite.url,
    };
    return createArtifactStore(`azure:p-${randomBytes(6).toString('hex')}`, ctx);
  });
});
