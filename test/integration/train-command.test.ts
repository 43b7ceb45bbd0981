/**
 * The churn example's own training script as the fit step of a pipeline loaded through
 * `pipelines.modules` (examples/churn/pipeline.ts), in a running platform with Debian's
 * python3-xgboost: the run trains with train.py, registers its model.json as an xgboost version,
 * evaluates, baselines and promotes it. What is checked against the script is what the script and
 * the server can both answer: the churn probability train.py's booster gives every training row
 * (its reference.csv) and the server's prediction for the same inputs. The holdout AUCs cannot be
 * compared: train.py scores its own synthetic label, the pipeline's evaluate the label file's.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as example from '../../examples/churn/features.js';
import { collectDefinitions } from '../../src/cli/apply.js';
import { seededRandom } from '../../src/demo/random.js';
import { jsonCall, runToEnd } from '../helpers/pipeline-runs.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

const PIPELINE_MODULE = resolve(import.meta.dirname, '../../examples/churn/pipeline.ts');
const INPUTS = ['user_activity:amount', 'user_spend:clipped_amount', 'user_spend:is_large_purchase'];
const USERS = 240;
const T0 = Date.parse('2026-02-01T00:00:00Z');

/** Every user's last action before its label time; every tenth user has none (all features missing). */
function activity(random: () => number) {
  const events = [];
  const labels = ['user_id,event_timestamp,label'];
  for (let u = 1; u <= USERS; u++) {
    const at = T0 + u * 60_000;
    const pick = random();
    const action = pick < 0.6 ? 'view' : pick < 0.9 ? 'purchase' : 'refund';
    const amount = action === 'view' ? 0 : Math.round(random() * 800) * (action === 'refund' ? -1 : 1);
    if (u % 10 !== 0)
      events.push({ user_id: u, action, amount, country: 'NL', ts: new Date(at).toISOString() });
    const churned = action !== 'purchase' && random() < 0.7 ? 1 : 0;
    labels.push(`${u},${new Date(at + 1000).toISOString()},${churned}`);
  }
  return { events, labels: `${labels.join('\n')}\n` };
}

/** A reference.csv row: train.py's inputs (empty when missing) and its churn probability. */
function parseReference(text: string): { inputs: (number | null)[]; probability: number }[] {
  const [header, ...lines] = text.trim().split(/\r?\n/);
  expect(header!.split(',')).toEqual([...INPUTS, 'churn_probability']);
  return lines.map((line) => {
    const cells = line.split(',');
    return {
      inputs: cells.slice(0, INPUTS.length).map((c) => (c === '' ? null : Number(c))),
      probability: Number(cells[INPUTS.length]),
    };
  });
}

describe.runIf(existsSync('/usr/bin/python3'))(
  'a training script as the fit step of a train pipeline',
  { timeout: 240_000 },
  () => {
    let running: TestPlatform;
    let url: string;

    const call = jsonCall(() => url);

    beforeAll(async () => {
      running = await startTestPlatform('train-command', {
        pipelines: { modules: [PIPELINE_MODULE], sweepIntervalMs: 500, heartbeatMs: 500 },
      });
      url = running.platform.httpUrl;
      await call('POST', '/v1/apply', collectDefinitions(example, 'examples/churn/features.ts'));
    });
    afterAll(async () => {
      await running?.stop();
    });

    it('trains with train.py, registers its model.json, and serves the probabilities train.py predicts', async () => {
      const { events, labels } = activity(seededRandom(11));
      await call('POST', '/v1/sources/activity/events', { events });
      const labelFile = join(running.dir, 'labels.csv');
      writeFileSync(labelFile, labels);
      const params = { model: 'churn', featureService: 'churn_model', labels: labelFile };
      const run = await runToEnd(call, 'train-churn', params);
      expect(run.error).toBeNull();
      expect(run.steps.map((s) => [s.name, s.status])).toEqual([
        ['training-set', 'COMPLETED'],
        ['fit', 'COMPLETED'],
        ['register', 'COMPLETED'],
        ['evaluate', 'COMPLETED'],
        ['baseline', 'COMPLETED'],
        ['decide', 'COMPLETED'],
      ]);
      const fit = run.steps.find((s) => s.name === 'fit')!.output as Record<string, unknown>;
      expect(fit).toMatchObject({ inputs: INPUTS, rows: USERS, trees: 50, seed: 42 });
      expect(Object.keys(fit.files as object).sort()).toEqual(['model.json', 'reference.csv']);
      expect(run.steps.find((s) => s.name === 'decide')!.output).toMatchObject({
        decision: 'promoted',
        candidateVersion: 1,
      });

      const version = await call('GET', '/v1/models/churn/versions/1');
      expect(version).toMatchObject({ stage: 'production', format: 'xgboost', inputs: INPUTS });
      expect(version.metrics).toMatchObject({
        holdoutAuc: fit.holdoutAuc,
        xgboost: fit.xgboost,
        runId: run.runId,
      });

      const artifact = running.platform.stores.artifact!;
      const reference = parseReference(
        (await artifact.getBuffer((fit.files as Record<string, string>)['reference.csv']!)).toString(),
      );
      expect(reference).toHaveLength(USERS);
      expect(reference.some((r) => r.inputs.every((v) => v === null))).toBe(true);
      const answer = (await call('POST', '/v2/models/churn/versions/1/infer', {
        inputs: [
          {
            name: 'input',
            datatype: 'FP64',
            shape: [reference.length, INPUTS.length],
            data: reference.flatMap((r) => r.inputs),
          },
        ],
        outputs: [{ name: 'probabilities' }],
      })) as { outputs: { name: string; data: number[] }[] };
      const served = answer.outputs[0]!.data.filter((_, i) => i % 2 === 1);
      const worst = Math.max(...served.map((p, i) => Math.abs(p - reference[i]!.probability)));
      // Views, purchases of different sizes, refunds and users without activity score differently.
      expect(new Set(reference.map((r) => r.probability)).size).toBeGreaterThan(3);
      expect(worst).toBeLessThan(1e-6);
    });
  },
);
