import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { ModelRegistry } from '../../src/serving/registry.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { ArtifactStore } from '../../src/stores/artifact/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import { expectCode, expectInvalid } from '../helpers/errors.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { type RunningServer, serverAvailable, startPostgres, tempStoreDir } from '../helpers/servers.js';
import { lightgbmModel, openRegistry, prepareTemplate, type RegistryFixture } from './registry-fixtures.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const binary = lightgbmModel('binary_categorical');

describe('model registry on PGlite', () => {
  const template = pgliteTemplate('model-registry', prepareTemplate);
  let f: RegistryFixture;
  beforeEach(async () => {
    f = await openRegistry(template);
  });
  afterEach(async () => {
    await f.close();
  });

  it('registers a pushed model in staging with its hash, size and the signature its runtime reads', async () => {
    const v = await f.registry.push({
      name: 'churn',
      format: 'lightgbm',
      bytes: binary,
      featureService: 'churn_features',
      metrics: { auc: 0.91 },
      baseline: 'baselines/churn/1.parquet',
      createdBy: 'alice',
    });
    expect(v).toMatchObject({
      name: 'churn',
      version: 1,
      format: 'lightgbm',
      stage: 'staging',
      sha256: sha256(binary),
      size: binary.byteLength,
      featureService: 'churn_features',
      metrics: { auc: 0.91 },
      baseline: 'baselines/churn/1.parquet',
      createdBy: 'alice',
    });
    expect(v.signature).toMatchObject({ task: 'classification', featureCount: 10, classCount: 2 });
    const stored = await f.artifacts.getBuffer(v.artifactPath);
    expect(sha256(stored)).toBe(sha256(binary));
    expect(await f.registry.describe('churn')).toMatchObject({
      name: 'churn',
      latestVersion: 1,
      versions: [v],
    });
  });

  it('reads the signature of an ONNX model at push', async () => {
    const onnx = readFileSync('test/fixtures/sklearn-onnx/logistic-regression-binary/model.onnx');
    const v = await f.registry.push({ name: 'lr', format: 'onnx', bytes: onnx });
    expect(v.artifactPath).toBe('Model_lr/v1/model.onnx');
    expect(v.signature).toMatchObject({ task: 'classification', featureCount: 5, outputDatatype: 'FP32' });
    await expectInvalid(f.registry.push({ name: 'lr', format: 'lightgbm', bytes: onnx }), 'file');
  });

  it('numbers versions 1, 2, 3 per model, also when pushes run concurrently', async () => {
    const pushes = Array.from({ length: 5 }, () =>
      f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary }),
    );
    const versions = (await Promise.all(pushes)).map((v) => v.version).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    const other = await f.registry.push({
      name: 'other',
      format: 'lightgbm',
      bytes: lightgbmModel('regression'),
    });
    expect(other.version).toBe(1);
    expect((await f.registry.list()).map((m) => [m.name, m.latestVersion])).toEqual([
      ['churn', 5],
      ['other', 1],
    ]);
  });

  it('rejects a corrupt or wrong-format file at push and stores nothing', async () => {
    const truncated = binary.subarray(0, 2000);
    await expectInvalid(f.registry.push({ name: 'churn', format: 'lightgbm', bytes: truncated }), 'file');
    const notAModel = new TextEncoder().encode('{"learner": "nope"}');
    await expectInvalid(f.registry.push({ name: 'churn', format: 'lightgbm', bytes: notAModel }), 'file');
    expect(await f.registry.list()).toEqual([]);
    expect(await f.artifacts.list('Model_churn/')).toEqual([]);
    const first = await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary });
    expect(first.version).toBe(1);
  });

  it('rejects inputs that do not name every input column, storing nothing', async () => {
    const err = await expectInvalid(
      f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary, inputs: ['a', 'b'] }),
      'inputs',
    );
    expect(err.message).toContain('10');
    expect(await f.registry.list()).toEqual([]);
    const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
    const v = await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary, inputs: names });
    expect(v.inputs).toEqual(names);
  });

  it('validates every push argument, naming it', async () => {
    const push = { name: 'churn', format: 'lightgbm', bytes: binary };
    await expectInvalid(f.registry.push({ ...push, name: '../etc' }), 'name');
    await expectInvalid(f.registry.push({ ...push, format: 'pickle' }), 'format');
    await expectInvalid(f.registry.push({ ...push, bytes: new Uint8Array() }), 'file');
    await expectInvalid(f.registry.push({ ...push, featureService: 'a b' }), 'featureService');
    await expectInvalid(f.registry.push({ ...push, metrics: [1] as never }), 'metrics');
    await expectInvalid(f.registry.push({ ...push, inputs: ['a', 'a'] }), 'inputs[1]');
  });

  it('promoting a version demotes the previous production version to staging', async () => {
    for (let i = 0; i < 3; i++) await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary });
    expect((await f.registry.setStage('churn', 1, 'production')).demotedVersion).toBeUndefined();
    const change = await f.registry.setStage('churn', 2, 'production');
    expect(change.demotedVersion).toBe(1);
    expect(change.version.stage).toBe('production');
    const stages = (await f.registry.describe('churn')).versions.map((v) => v.stage);
    expect(stages).toEqual(['staging', 'production', 'staging']);
    expect((await f.registry.production('churn')).version).toBe(2);
    expect(await f.registry.productionVersions()).toEqual(new Map([['churn', 2]]));
    expect((await f.registry.list())[0]).toMatchObject({ name: 'churn', productionVersion: 2 });
  });

  it('archiving the production version leaves the model with no default version', async () => {
    await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary });
    await f.registry.setStage('churn', 1, 'production');
    await f.registry.setStage('churn', 1, 'archived');
    const err = await expectCode(f.registry.production('churn'), 'NOT_FOUND');
    expect(err.message).toContain('meridian models promote churn');
    expect(await f.registry.productionVersions()).toEqual(new Map());
  });

  it('answers NOT_FOUND naming the unknown model or version', async () => {
    await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary });
    const model = await expectCode(f.registry.setStage('nope', 1, 'production'), 'NOT_FOUND', 'name');
    expect(model.message).toContain('"nope"');
    const version = await expectCode(f.registry.version('churn', 7), 'NOT_FOUND', 'version');
    expect(version.message).toContain('no version 7');
    await expectCode(f.registry.describe('nope'), 'NOT_FOUND', 'name');
    await expectInvalid(f.registry.setStage('churn', 1, 'live' as never), 'stage');
    await expectInvalid(f.registry.version('churn', 0), 'version');
  });

  it('fails with DATA_CORRUPT when the stored file no longer matches its hash', async () => {
    const v = await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary });
    expect(sha256(await f.registry.readArtifact(v))).toBe(v.sha256);
    const file = join(f.artifactDir, v.artifactPath);
    const tampered = readFileSync(file);
    tampered[100] = tampered[100]! ^ 1;
    writeFileSync(file, tampered);
    await expectCode(f.registry.readArtifact(v), 'DATA_CORRUPT');
  });

  it('fails with DATA_CORRUPT when the artifact differs from the version registered', async () => {
    const v = await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: binary });
    // Another file put at the same path with its own valid sidecar: only the registry's hash catches it.
    await f.artifacts.put(v.artifactPath, lightgbmModel('regression'));
    const err = await expectCode(f.registry.readArtifact(v), 'DATA_CORRUPT');
    expect(err.message).toContain(v.sha256);
  });
});

describe.runIf(serverAvailable('postgres'))('model registry on PostgreSQL', () => {
  let server: RunningServer;
  let artifacts: ArtifactStore;
  beforeAll(async () => {
    server = await startPostgres();
    const ctx = { dataDir: tempStoreDir('model-artifacts'), logger: silentLogger };
    artifacts = await createArtifactStore(`file:${ctx.dataDir}`, ctx);
  }, 60_000);
  afterAll(async () => {
    await artifacts?.close();
    await server?.stop();
  });

  it('hands out distinct consecutive versions to concurrent pushes from several processes, and keeps one production version under concurrent promotions', async () => {
    const ctx = { dataDir: tempStoreDir('model-state'), logger: silentLogger };
    const states = await Promise.all([0, 1, 2].map(() => createStateStore(server.url, ctx)));
    try {
      const registries = await Promise.all(states.map((s) => ModelRegistry.open(s, artifacts)));
      const pushes = Array.from({ length: 12 }, (_, i) =>
        registries[i % 3]!.push({ name: 'churn', format: 'lightgbm', bytes: binary }),
      );
      const versions = (await Promise.all(pushes)).map((v) => v.version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const described = await registries[0]!.describe('churn');
      expect(new Set(described.versions.map((v) => v.artifactPath)).size).toBe(12);
      await Promise.all([1, 2, 3].map((v) => registries[v % 3]!.setStage('churn', v, 'production')));
      const after = await registries[1]!.describe('churn');
      expect(after.versions.filter((v) => v.stage === 'production')).toHaveLength(1);
    } finally {
      await Promise.all(states.map((s) => s.close()));
    }
  });
});
