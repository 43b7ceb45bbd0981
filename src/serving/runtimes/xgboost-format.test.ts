import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../../../test/helpers/errors.js';
import { loadXgboostModel, type XgboostModel } from './xgboost.js';
import { parseXgboostJson } from './xgboost-format.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/xgboost');
const BINARY = readFileSync(resolve(FIXTURES, 'binary/model.json'));

// biome-ignore lint/suspicious/noExplicitAny: tests reach into the model JSON to break it on purpose.
type Json = any;

/** The binary fixture's JSON after `change`, as file bytes. */
function mutated(change: (json: Json) => void): Uint8Array {
  const json = JSON.parse(BINARY.toString('utf8'));
  change(json);
  return new TextEncoder().encode(JSON.stringify(json));
}

async function rejectsFile(bytes: Uint8Array, expected: RegExp): Promise<void> {
  const err = await expectInvalid(loadXgboostModel(bytes), 'file');
  expect(err.message).toMatch(expected);
}

const tree0 = (json: Json) => json.learner.gradient_booster.model.trees[0];

describe('XGBoost JSON parsing', () => {
  it("reads XGBoost's bare NaN and Infinity tokens, but not inside strings", () => {
    const parsed = parseXgboostJson('{"a": [NaN, -Infinity, Infinity, 1], "b": "NaN Infinity"}') as Json;
    expect(parsed.a).toEqual([null, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1]);
    expect(parsed.b).toBe('NaN Infinity');
  });

  it('reads base_score written as a one-element vector, as XGBoost 2.1 does', async () => {
    const bytes = mutated((j) => {
      j.learner.learner_model_param.base_score = '[5E-1]';
    });
    const model = (await loadXgboostModel(bytes)) as XgboostModel;
    const original = (await loadXgboostModel(BINARY)) as XgboostModel;
    const row = { rows: 1, values: Float64Array.from([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8]) };
    expect(model.margins(row)).toEqual(original.margins(row));
  });

  it('accepts boolean default_left as older writers emit it', async () => {
    const bytes = mutated((j) => {
      tree0(j).default_left = tree0(j).default_left.map((v: number) => v === 1);
    });
    const model = (await loadXgboostModel(bytes)) as XgboostModel;
    const original = (await loadXgboostModel(BINARY)) as XgboostModel;
    const rows = {
      rows: 3,
      values: Float64Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? Number.NaN : i / 10 - 1)),
    };
    expect(model.margins(rows)).toEqual(original.margins(rows));
  });
});

describe('XGBoost JSON model rejects bad files at load with INVALID_ARGUMENT naming the file', () => {
  it('rejects an empty file', async () => {
    await rejectsFile(new Uint8Array(0), /empty/);
  });

  it('rejects a binary or UBJSON model, saying JSON is expected', async () => {
    await rejectsFile(Uint8Array.from([0x62, 0x69, 0x6e, 0x00, 0xff, 0x01]), /save_model\("model\.json"\)/);
  });

  it('rejects a truncated file as invalid JSON', async () => {
    await rejectsFile(BINARY.subarray(0, BINARY.length / 2), /not valid JSON/);
  });

  it('rejects JSON that is not an XGBoost model', async () => {
    await rejectsFile(new TextEncoder().encode('{"ir_version": 8, "graph": {}}'), /not an XGBoost model/);
  });

  it('rejects a gblinear booster whose weights do not fit num_feature', async () => {
    const bytes = mutated((j) => {
      j.learner.gradient_booster = { name: 'gblinear', model: { weights: [0.1, 0.2] } };
    });
    await rejectsFile(bytes, /2 weights for \d+ features \(\+ bias\)/);
  });

  it('rejects an unknown booster, listing the supported ones', async () => {
    const bytes = mutated((j) => {
      j.learner.gradient_booster = { name: 'gbforest', model: {} };
    });
    await rejectsFile(bytes, /booster "gbforest" is not supported.*gbtree, dart, gblinear/);
  });

  it('rejects an unsupported objective, listing the supported ones', async () => {
    const bytes = mutated((j) => {
      j.learner.objective.name = 'rank:pairwise';
    });
    await rejectsFile(bytes, /objective "rank:pairwise" is not supported.*binary:logistic/);
  });

  it('rejects a child index outside the tree', async () => {
    await rejectsFile(
      mutated((j) => {
        tree0(j).left_children[0] = 10_000;
      }),
      /child out of range/,
    );
  });

  it('rejects nodes that loop back instead of forming a tree', async () => {
    await rejectsFile(
      mutated((j) => {
        tree0(j).left_children[2] = 1;
        tree0(j).right_children[2] = 1;
      }),
      /node 1 is reached twice/,
    );
  });

  it('rejects a split on a feature the model does not have', async () => {
    await rejectsFile(
      mutated((j) => {
        tree0(j).split_indices[0] = 8;
      }),
      /feature 8 of 8/,
    );
  });

  it('rejects node arrays of different lengths', async () => {
    await rejectsFile(
      mutated((j) => {
        tree0(j).split_conditions.pop();
      }),
      /split_conditions has/,
    );
  });

  it('rejects tree_info that does not match the trees', async () => {
    await rejectsFile(
      mutated((j) => {
        j.learner.gradient_booster.model.tree_info.pop();
      }),
      /tree_info has/,
    );
  });

  it('rejects a logistic model whose base_score is not a probability', async () => {
    await rejectsFile(
      mutated((j) => {
        j.learner.learner_model_param.base_score = '1.5E0';
      }),
      /base_score 1.5 is not a probability/,
    );
  });

  it('rejects a categorical node without categories', async () => {
    await rejectsFile(
      mutated((j) => {
        tree0(j).split_type[0] = 1;
      }),
      /categorical node 0 has no categories/,
    );
  });
});
