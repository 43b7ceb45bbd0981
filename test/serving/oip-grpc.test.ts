import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceServiceClass } from '../../src/api/oip-grpc.js';
import { expectMatches, fixtureNamed, LGB_BINARY, LGB_MULTI } from '../clients/oip-expect.js';
import { fixtureModels, readNumericCsv } from '../clients/oip-fixtures.js';
import {
  FIXTURE_VERSION,
  FixtureResolver,
  loadFixtures,
  type OipServer,
  startOipServer,
} from '../clients/oip-server.js';

const fixtures = fixtureModels().filter((f) => f.name === LGB_BINARY || f.name === LGB_MULTI);

type Callback = (err: grpc.ServiceError | null, value: Record<string, unknown>) => void;
type Rpc = (request: unknown, callback: Callback) => void;

let server: OipServer;
let client: grpc.Client & Record<string, Rpc>;

beforeAll(async () => {
  server = await startOipServer(new FixtureResolver(await loadFixtures(fixtures), new Set(['warming'])));
  const Service = inferenceServiceClass();
  client = new Service(server.grpcAddress, grpc.credentials.createInsecure()) as never;
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.close();
});

function call(method: string, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    client[method]?.call(client, request, (err, value) => (err ? reject(err) : resolve(value)));
  });
}

async function grpcError(method: string, request: unknown): Promise<grpc.ServiceError> {
  return call(method, request).then(
    () => {
      throw new Error(`${method} succeeded`);
    },
    (err: grpc.ServiceError) => err,
  );
}

describe('OIP v2 over gRPC', () => {
  it('answers liveness, readiness and metadata', async () => {
    expect(await call('ServerLive', {})).toEqual({ live: true });
    expect(await call('ServerReady', {})).toEqual({ ready: false });
    expect(await call('ModelReady', { name: LGB_BINARY, version: String(FIXTURE_VERSION) })).toEqual({
      ready: true,
    });
    expect(await call('ModelReady', { name: 'warming' })).toEqual({ ready: false });
    const meta = await call('ServerMetadata', {});
    expect(meta.extensions).toContain('binary_tensor_data');
    const model = await call('ModelMetadata', { name: LGB_MULTI });
    expect(model.platform).toBe('lightgbm');
    expect(model.outputs).toEqual([
      { name: 'probabilities', datatype: 'FP64', shape: ['-1', '3'] },
      { name: 'label', datatype: 'INT64', shape: ['-1'] },
    ]);
  });

  it('infers from raw_input_contents and answers raw_output_contents matching the library', async () => {
    const model = fixtureNamed(fixtures, LGB_BINARY);
    const rows = readNumericCsv(model.inputsCsv);
    const raw = Buffer.from(Float64Array.from(rows.flat()).buffer);
    const answer = await call('ModelInfer', {
      model_name: model.name,
      id: 'g1',
      inputs: [{ name: 'input', datatype: 'FP64', shape: [rows.length, rows[0]?.length] }],
      raw_input_contents: [raw],
    });
    expect([answer.model_name, answer.model_version, answer.id]).toEqual([
      model.name,
      String(FIXTURE_VERSION),
      'g1',
    ]);
    const outputs = answer.outputs as { name: string; datatype: string }[];
    expect(outputs.map((o) => [o.name, o.datatype])).toEqual([
      ['probabilities', 'FP64'],
      ['label', 'INT64'],
    ]);
    const bytes = (answer.raw_output_contents as Buffer[])[0] as Buffer;
    const probabilities = Array.from(
      new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    );
    expectMatches(model, probabilities, rows.length);
  });

  it('infers from typed FP32 contents, converting to the model input', async () => {
    const model = fixtureNamed(fixtures, LGB_MULTI);
    const rows = readNumericCsv(model.inputsCsv).slice(0, 2);
    const answer = await call('ModelInfer', {
      model_name: model.name,
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [2, rows[0]?.length],
          contents: { fp32_contents: rows.flat() },
        },
      ],
      outputs: [{ name: 'label' }],
    });
    expect((answer.outputs as { name: string }[]).map((o) => o.name)).toEqual(['label']);
    expect((answer.raw_output_contents as Buffer[])[0]?.byteLength).toBe(16);
  });

  it('maps errors to gRPC status codes through the error table', async () => {
    const unknown = await grpcError('ModelInfer', {
      model_name: 'nope',
      inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 1] }],
    });
    expect([unknown.code, unknown.details]).toEqual([
      grpc.status.NOT_FOUND,
      expect.stringMatching(/model "nope" not found/),
    ]);
    const shape = await grpcError('ModelInfer', {
      model_name: LGB_BINARY,
      inputs: [{ name: 'input', datatype: 'FP64', shape: [2, 3] }],
      raw_input_contents: [Buffer.alloc(20)],
    });
    expect([shape.code, shape.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      expect.stringMatching(/input: 20 bytes do not match shape \[2, 3\]/),
    ]);
    const loading = await grpcError('ModelMetadata', { name: 'warming' });
    expect(loading.code).toBe(grpc.status.UNAVAILABLE);
    const version = await grpcError('ModelMetadata', { name: LGB_BINARY, version: 'latest' });
    expect([version.code, version.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      expect.stringMatching(/version: "latest"/),
    ]);
    expect(await call('ServerLive', {})).toEqual({ live: true });
  });
});
