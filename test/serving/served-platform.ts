/** A running `all` platform with the XGBoost binary fixture pushed, promoted and warmed up. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Platform } from '../../src/platform.js';
import { type FixtureModel, fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import { startTestPlatform } from '../helpers/platform.js';

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
  const { platform, stop } = await startTestPlatform(kind, overrides);
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
