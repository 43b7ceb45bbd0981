/** A running `all` platform with the XGBoost binary fixture pushed, promoted and warmed up. */
import { readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Platform } from '../../src/platform.js';
import { type FixtureModel, fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import { tempStoreDir } from '../helpers/servers.js';

export interface ServedPlatform {
  platform: Platform;
  model: FixtureModel;
  /** The fixture's input rows. */
  rows: number[][];
  stop(): Promise<void>;
}

/** Starts the platform, pushes and promotes the XGBoost binary fixture, and waits until it answers. */
export async function startServedPlatform(
  kind: string,
  overrides: Record<string, unknown> = {},
): Promise<ServedPlatform> {
  const dir = tempStoreDir(kind);
  const config = loadConfig({
    cwd: dir,
    env: {},
    overrides: {
      target: 'all',
      dataDir: dir,
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '127.0.0.1', port: 0 },
      ...overrides,
    },
  });
  const platform = await Platform.start(config, { logger: silentLogger });
  const stop = async () => {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const model = fixtureModels().find((f) => f.name === 'xgboost-binary');
    if (!model) throw new Error('no XGBoost fixture under test/fixtures/xgboost/binary');
    const form = new FormData();
    form.set('format', model.format);
    form.set('file', new Blob([readFileSync(model.modelPath)]), basename(model.modelPath));
    const url = platform.httpUrl;
    const pushed = await fetch(`${url}/v1/models/${model.name}/versions`, { method: 'POST', body: form });
    if (pushed.status !== 201) throw new Error(`push failed: ${await pushed.text()}`);
    const staged = await fetch(`${url}/v1/models/${model.name}/versions/1/stage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stage: 'production' }),
    });
    if (staged.status !== 200) throw new Error(`promote failed: ${await staged.text()}`);
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${url}/v2/models/${model.name}/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`${model.name} never became ready`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { platform, model, rows: readNumericCsv(model.inputsCsv), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** An OIP v2 JSON inference body for `rows`, NaN sent as null. */
export function inferBody(rows: number[][], id?: string): string {
  return JSON.stringify({
    ...(id ? { id } : {}),
    inputs: [
      {
        name: 'input',
        datatype: 'FP64',
        shape: [rows.length, rows[0]?.length ?? 0],
        data: rows.flat().map((v) => (Number.isNaN(v) ? null : v)),
      },
    ],
  });
}
