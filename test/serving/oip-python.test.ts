import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModels } from '../clients/oip-fixtures.js';
import { FixtureResolver, loadFixtures, type OipServer, startOipServer } from '../clients/oip-server.js';
import { type Check, pythonClientAvailable, runPythonClient } from '../clients/python-client.js';

const fixtures = fixtureModels();

describe.runIf(pythonClientAvailable())(
  'OIP v2 from a Python client (grpcio stubs generated from proto/, requests)',
  () => {
    let server: OipServer;
    let checks: Check[];

    beforeAll(async () => {
      server = await startOipServer(new FixtureResolver(await loadFixtures(fixtures)));
      checks = await runPythonClient(server.restUrl, server.grpcAddress, fixtures);
    }, 180_000);

    afterAll(async () => {
      await server?.close();
    });

    it('sees the server live, ready and offering binary tensor data over REST and gRPC', () => {
      const names = [
        'rest live',
        'rest ready',
        'rest server metadata',
        'grpc live',
        'grpc ready',
        'grpc server metadata',
      ];
      expect(checks.filter((c) => names.includes(c.check))).toEqual(
        names.map((check) => expect.objectContaining({ check, ok: true })),
      );
    });

    it('reads every fixture model metadata and gets the library predictions through REST JSON, REST binary and gRPC', () => {
      expect(fixtures.length).toBeGreaterThanOrEqual(4);
      const expected = fixtures.flatMap((f) => [
        `rest metadata ${f.name}`,
        `rest json ${f.name}`,
        `rest binary ${f.name}`,
        `grpc infer ${f.name}`,
      ]);
      const got = new Map(checks.map((c) => [c.check, c]));
      const failed = expected
        .map((name) => got.get(name) ?? { check: name, ok: false, detail: 'not run' })
        .filter((c) => !c.ok);
      expect(failed).toEqual([]);
    });

    it('takes typed gRPC contents, and gets errors in each protocol format (REST {"error"}, gRPC NOT_FOUND)', () => {
      const names = ['rest error format', 'grpc typed contents', 'grpc unknown model'];
      expect(checks.filter((c) => names.includes(c.check))).toEqual(
        names.map((check) => expect.objectContaining({ check, ok: true })),
      );
    });
  },
);
