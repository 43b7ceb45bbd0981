import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatches, fixtureNamed, LGB_BINARY, LGB_MULTI } from '../clients/oip-expect.js';
import { fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import {
  FIXTURE_VERSION,
  FixtureResolver,
  loadFixtures,
  type OipServer,
  startOipServer,
} from '../clients/oip-server.js';

const fixtures = fixtureModels();

let server: OipServer;

beforeAll(async () => {
  const resolver = new FixtureResolver(await loadFixtures(fixtures), new Set(['warming']));
  server = await startOipServer(resolver);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return fetch(`${server.restUrl}${path}`, {
    method: 'POST',
    headers: { ...(body instanceof Uint8Array ? {} : { 'content-type': 'application/json' }), ...headers },
    body: payload,
  });
}

describe('OIP v2 over REST', () => {
  it('reports liveness, readiness and the binary tensor data extension', async () => {
    expect(await (await fetch(`${server.restUrl}/v2/health/live`)).json()).toEqual({ live: true });
    const ready = await fetch(`${server.restUrl}/v2/health/ready`);
    // 'warming' is still loading, so the server as a whole is not ready: a 4xx, as OIP specifies.
    expect(ready.status).toBe(400);
    expect(await ready.json()).toEqual({ ready: false });
    const meta = (await (await fetch(`${server.restUrl}/v2`)).json()) as {
      name: string;
      extensions: string[];
    };
    expect(meta.name).toBe('meridian');
    expect(meta.extensions).toContain('binary_tensor_data');
  });

  it('states the tabular tensor conventions in model metadata, by default and by version', async () => {
    const features = readNumericCsv(fixtureNamed(fixtures, LGB_BINARY).inputsCsv)[0]?.length;
    for (const path of [`/v2/models/${LGB_BINARY}`, `/v2/models/${LGB_BINARY}/versions/${FIXTURE_VERSION}`]) {
      expect(await (await fetch(`${server.restUrl}${path}`)).json()).toEqual({
        name: LGB_BINARY,
        versions: [String(FIXTURE_VERSION)],
        platform: 'lightgbm',
        inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, features] }],
        outputs: [
          { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
          { name: 'label', datatype: 'INT64', shape: [-1] },
        ],
      });
    }
  });

  it('answers model readiness: 200 when warmed up, 4xx while loading', async () => {
    const ready = await fetch(`${server.restUrl}/v2/models/${LGB_BINARY}/versions/${FIXTURE_VERSION}/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    const warming = await fetch(`${server.restUrl}/v2/models/warming/ready`);
    expect([warming.status, await warming.json()]).toEqual([400, { ready: false }]);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))(
    'answers %s with the library predictions (JSON)',
    async (_, model) => {
      const rows = readNumericCsv(model.inputsCsv);
      const data = rows.map((row) => row.map((v) => (Number.isNaN(v) ? null : v)));
      const response = await post(`/v2/models/${model.name}/infer`, {
        id: 'req-1',
        inputs: [{ name: 'input', datatype: 'FP64', shape: [rows.length, rows[0]?.length], data }],
      });
      const body = (await response.json()) as {
        id: string;
        model_version: string;
        outputs: { name: string; data: number[] }[];
      };
      expect(response.status).toBe(200);
      expect([body.id, body.model_version]).toEqual(['req-1', String(FIXTURE_VERSION)]);
      const output = body.outputs.find((o) => o.name === 'probabilities' || o.name === 'predictions');
      expectMatches(model, output?.data ?? [], rows.length);
    },
  );

  it('takes binary input after the JSON header and answers binary output when asked', async () => {
    const model = fixtureNamed(fixtures, LGB_MULTI);
    const rows = readNumericCsv(model.inputsCsv);
    const values = Float64Array.from(rows.flat());
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'input',
            datatype: 'FP64',
            shape: [rows.length, rows[0]?.length],
            parameters: { binary_data_size: values.byteLength },
          },
        ],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }],
      }),
    );
    const response = await post(
      `/v2/models/${model.name}/infer`,
      Buffer.concat([header, Buffer.from(values.buffer)]),
      {
        'inference-header-content-length': String(header.byteLength),
      },
    );
    expect(response.status).toBe(200);
    const length = Number(response.headers.get('inference-header-content-length'));
    const bytes = Buffer.from(await response.arrayBuffer());
    const json = JSON.parse(bytes.subarray(0, length).toString()) as {
      outputs: {
        name: string;
        shape: number[];
        data?: number[];
        parameters?: { binary_data_size: number };
      }[];
    };
    expect(json.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['probabilities', [rows.length, 3]],
      ['label', [rows.length]],
    ]);
    const raw = bytes.subarray(length);
    expect(raw.byteLength).toBe(json.outputs[0]?.parameters?.binary_data_size);
    const probabilities = Array.from(
      new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)),
    );
    expectMatches(model, probabilities, rows.length);
    const argmax = readNumericCsv(model.predictionsCsv).map((p) => p.indexOf(Math.max(...p)));
    expect(json.outputs[1]?.data).toEqual(argmax);
  });

  it('answers bad requests with the status of the error table and {"error"} only, and keeps serving', async () => {
    const input = (shape: number[], data: unknown[], datatype = 'FP64') => ({
      inputs: [{ name: 'input', datatype, shape, data }],
    });
    const features = readNumericCsv(fixtureNamed(fixtures, LGB_BINARY).inputsCsv)[0]?.length ?? 0;
    const infer = `/v2/models/${LGB_BINARY}/infer`;
    const cases: [string, Promise<Response>, number, RegExp][] = [
      ['unknown model', post('/v2/models/nope/infer', input([1, 1], [1])), 404, /model "nope" not found/],
      [
        'unknown version',
        post(`/v2/models/${LGB_BINARY}/versions/9/infer`, input([1, 1], [1])),
        404,
        /no version 9/,
      ],
      ['loading model', post('/v2/models/warming/infer', input([1, 1], [1])), 503, /still loading/],
      [
        'shape vs values',
        post(infer, input([2, 3], [1, 2, 3, 4, 5, 6, 7])),
        400,
        /input: shape \[2, 3\] does not match 7 values/,
      ],
      [
        'feature count',
        post(infer, input([1, 2], [1, 2])),
        400,
        new RegExp(`2 features given, the model takes ${features}`),
      ],
      [
        'datatype',
        post(infer, input([1, features], Array(features).fill('a'), 'BYTES')),
        400,
        /BYTES is not accepted/,
      ],
      [
        'unknown input',
        post(infer, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
        400,
        /unknown input "x"/,
      ],
      [
        'unknown output',
        post(infer, { ...input([1, features], Array(features).fill(0)), outputs: [{ name: 'score' }] }),
        400,
        /unknown output "score"/,
      ],
      ['malformed JSON', post(infer, '{"inputs": [}'), 400, /malformed JSON/],
      [
        'byte length vs header',
        post(infer, Buffer.from('{"inputs": []}xx'), { 'inference-header-content-length': '99' }),
        400,
        /Inference-Header-Content-Length/,
      ],
      ['no such route', post('/v2/models/x/explain', {}), 404, /no route POST/],
    ];
    for (const [what, pending, status, message] of cases) {
      const response = await pending;
      const body = (await response.json()) as Record<string, unknown>;
      expect({ what, status: response.status, keys: Object.keys(body) }).toEqual({
        what,
        status,
        keys: ['error'],
      });
      expect(body.error).toMatch(message);
    }
    expect((await fetch(`${server.restUrl}/v2/health/live`)).status).toBe(200);
  });
});
