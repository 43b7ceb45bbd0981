import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTO_DIR } from '../../src/api/grpc.js';
import { fixtureModels } from '../clients/oip-fixtures.js';
import { FixtureResolver, loadFixtures, type OipServer, startOipServer } from '../clients/oip-server.js';

const PYTHON = '/usr/bin/python3';
const CLIENT = resolve(import.meta.dirname, '..', 'clients', 'oip_client.py');
const MODULES = 'import grpc, grpc_tools, requests, numpy';

/** Debian's python3-grpcio, python3-grpc-tools, python3-requests and numpy, as CI installs them. */
function pythonClientAvailable(): boolean {
  const probe = spawnSync(PYTHON, ['-c', MODULES], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  const message =
    'python3 with grpcio, grpc-tools, requests and numpy is missing: run `apt-get install -y python3-grpcio python3-grpc-tools python3-requests python3-numpy`';
  if (process.env.MERIDIAN_REQUIRE_SERVICES === '1') throw new Error(message);
  console.warn(`\n*** SKIPPING the Python OIP client suite: ${message} ***\n`);
  return false;
}

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

const fixtures = fixtureModels();

describe.runIf(pythonClientAvailable())(
  'OIP v2 from a Python client (grpcio stubs generated from proto/, requests)',
  () => {
    let server: OipServer;
    let dir: string;
    let checks: Check[];

    beforeAll(async () => {
      server = await startOipServer(new FixtureResolver(await loadFixtures(fixtures)));
      dir = mkdtempSync(join(tmpdir(), 'oip-python-'));
      const spec = join(dir, 'fixtures.json');
      writeFileSync(
        spec,
        JSON.stringify(
          fixtures.map((f) => ({
            name: f.name,
            inputs_csv: f.inputsCsv,
            predictions_csv: f.predictionsCsv,
            rtol: f.rtol,
            atol: f.atol,
          })),
        ),
      );
      const args = [
        CLIENT,
        '--rest',
        server.restUrl,
        '--grpc',
        server.grpcAddress,
        '--proto-root',
        PROTO_DIR,
      ];
      const { stdout } = await promisify(execFile)(PYTHON, [...args, '--fixtures', spec], {
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      checks = (JSON.parse(stdout) as { checks: Check[] }).checks;
    }, 180_000);

    afterAll(async () => {
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
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
