import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.js';
import { ModelRegistry } from '../../src/serving/registry.js';
import { RegistryModelResolver, type ResolverOptions } from '../../src/serving/resolver-impl.js';
import { loadModel } from '../../src/serving/runtimes/index.js';
import type { InputBatch } from '../../src/serving/runtimes/model.js';
import type { ModelLoadFn } from '../../src/serving/served-model.js';
import { expectCode } from '../helpers/errors.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import {
  LIGHTGBM_FIXTURES,
  lightgbmModel,
  openRegistry,
  prepareTemplate,
  type RegistryFixture,
} from './registry-fixtures.js';

const multiclass = lightgbmModel('multiclass');
const regression = lightgbmModel('regression');

/** Records what the real runtime is asked to do; predictions wait for `release` while `gated`. */
class Observed {
  loads = 0;
  closes = 0;
  batches: InputBatch[] = [];
  gated = false;
  #open: () => void = () => undefined;
  #gate = Promise.resolve();

  hold(): void {
    this.gated = true;
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.gated = false;
    this.#open();
  }

  readonly load: ModelLoadFn = async (format, bytes) => {
    this.loads++;
    const model = await loadModel(format, bytes);
    return {
      format: model.format,
      signature: model.signature,
      predict: async (batch) => {
        this.batches.push(batch);
        await this.#gate;
        return model.predict(batch);
      },
      close: async () => {
        this.closes++;
        await model.close();
      },
    };
  };
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

describe('registry model resolver', () => {
  const template = pgliteTemplate('model-resolver', prepareTemplate);
  let f: RegistryFixture;
  let observed: Observed;
  let resolver: RegistryModelResolver | undefined;
  const start = async (options: ResolverOptions = {}) => {
    resolver = await RegistryModelResolver.start(f.registry, { load: observed.load, ...options });
    return resolver;
  };

  beforeEach(async () => {
    f = await openRegistry(template);
    observed = new Observed();
  });
  afterEach(async () => {
    await resolver?.close();
    resolver = undefined;
    await f.close();
  });

  it('loads a version once for concurrent requests and reports it ready only after one warm-up inference', async () => {
    await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: multiclass });
    await f.registry.setStage('churn', 1, 'production');
    observed.hold();
    const r = await start();
    const requests = [r.resolve('churn'), r.resolve('churn'), r.resolve('churn', 1)];
    await eventually(
      async () => observed.batches.length,
      (n) => n > 0,
    );
    expect(await r.isReady('churn')).toBe(false);
    expect(await r.isReady('churn', 1)).toBe(false);
    observed.release();
    const served = await Promise.all(requests);
    expect(new Set(served.map((s) => s.model)).size).toBe(1);
    expect(observed.loads).toBe(1);
    expect(observed.batches).toHaveLength(1);
    const warmUp = observed.batches[0]!;
    expect(warmUp.rows).toBe(1);
    expect(Array.from(warmUp.values).every(Number.isNaN)).toBe(true);
    expect(warmUp.values).toHaveLength(10);
    expect(await r.isReady('churn')).toBe(true);
    expect(served[0]).toMatchObject({
      name: 'churn',
      version: 1,
      inputs: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9'],
    });
  });

  it("serves predictions equal to LightGBM's own from the registered file", async () => {
    await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: multiclass });
    const r = await start();
    const served = await r.resolve('churn', 1);
    const row = readFileSync(join(LIGHTGBM_FIXTURES, 'multiclass', 'test_inputs.csv'), 'utf8').split(
      '\n',
    )[1]!;
    const expected = readFileSync(join(LIGHTGBM_FIXTURES, 'multiclass', 'predictions.csv'), 'utf8').split(
      '\n',
    )[0]!;
    const out = await served.model.predict({
      rows: 1,
      values: Float64Array.from(row.split(',').map(Number)),
    });
    const want = expected.split(',').map(Number);
    Array.from(out.probabilities!).forEach((p, i) => {
      expect(Math.abs(p - want[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]!));
    });
  });

  it('follows a promotion made through another registry instance by polling, without restart', async () => {
    await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: multiclass });
    await f.registry.setStage('churn', 1, 'production');
    const r = await start({ pollIntervalMs: 100 });
    expect((await r.resolve('churn')).version).toBe(1);
    expect(await r.served()).toEqual(['churn']);
    const elsewhere = await ModelRegistry.open(f.state, f.artifacts);
    await elsewhere.push({ name: 'churn', format: 'lightgbm', bytes: regression });
    await elsewhere.setStage('churn', 2, 'production');
    const started = Date.now();
    const served = await eventually(
      () => r.resolve('churn'),
      (s) => s.version === 2,
    );
    expect(served.version).toBe(2);
    expect(served.model.signature.task).toBe('regression');
    expect(Date.now() - started).toBeLessThan(5000);
    await elsewhere.setStage('churn', 2, 'archived');
    const gone = await eventually(
      () =>
        r.resolve('churn').then(
          () => 'served',
          (err: { code?: string }) => err.code,
        ),
      (outcome) => outcome === 'NOT_FOUND',
    );
    expect(gone).toBe('NOT_FOUND');
    expect(await r.served()).toEqual([]);
  });

  it('answers NOT_FOUND for an unknown model, an unknown version, or a model with nothing in production', async () => {
    await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: multiclass });
    const r = await start();
    await expectCode(r.resolve('nope'), 'NOT_FOUND', 'name');
    await expectCode(r.resolve('churn', 4), 'NOT_FOUND', 'version');
    const err = await expectCode(r.resolve('churn'), 'NOT_FOUND');
    expect(err.message).toContain('no version in production');
    expect(observed.loads).toBe(0);
  });

  it('keeps a bounded number of versions loaded, never evicting the production one', async () => {
    for (let i = 0; i < 3; i++)
      await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: regression });
    await f.registry.setStage('churn', 1, 'production');
    const r = await start({ maxLoadedVersions: 1, evictGraceMs: 0 });
    const production = await r.resolve('churn');
    await r.resolve('churn', 2);
    await r.resolve('churn', 3);
    await eventually(
      async () => observed.closes,
      (n) => n >= 2,
    );
    expect(observed.closes).toBe(2);
    expect(await r.resolve('churn')).toBe(production);
    expect(await r.isReady('churn', 1)).toBe(true);
    expect(await r.isReady('churn', 2)).toBe(false);
  });

  it('fails with DATA_CORRUPT for a tampered file, and loads it once it is repaired', async () => {
    const v = await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: regression });
    const file = join(f.artifactDir, v.artifactPath);
    writeFileSync(file, Buffer.concat([regression, Buffer.from('\n')]));
    const r = await start();
    await expectCode(r.resolve('churn', 1), 'DATA_CORRUPT');
    writeFileSync(file, regression);
    expect((await r.resolve('churn', 1)).version).toBe(1);
  });

  it('frees every loaded model on close and refuses requests afterwards', async () => {
    for (let i = 0; i < 2; i++)
      await f.registry.push({ name: 'churn', format: 'lightgbm', bytes: regression });
    const r = await start();
    await Promise.all([r.resolve('churn', 1), r.resolve('churn', 2)]);
    await r.close();
    expect(observed.closes).toBe(2);
    await expectCode(r.resolve('churn', 1), 'UNAVAILABLE');
    expect(await r.isReady('churn', 1)).toBe(false);
  });
});
