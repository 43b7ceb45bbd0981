/**
 * Runs `oip_client.py` (Debian's python3-grpcio, python3-grpc-tools and python3-requests; stubs
 * generated from proto/ at run time) against a server and returns its checks.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PROTO_DIR } from '../../src/api/grpc.js';
import type { FixtureModel } from './oip-fixtures.js';

const PYTHON = '/usr/bin/python3';
const CLIENT = resolve(import.meta.dirname, 'oip_client.py');
const MODULES = 'import grpc, grpc_tools, requests, numpy';

export interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

/** Whether the Python client can run; under MERIDIAN_REQUIRE_SERVICES=1 a missing package fails instead. */
export function pythonClientAvailable(): boolean {
  const probe = spawnSync(PYTHON, ['-c', MODULES], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  const message =
    'python3 with grpcio, grpc-tools, requests and numpy is missing: run `apt-get install -y python3-grpcio python3-grpc-tools python3-requests python3-numpy`';
  if (process.env.MERIDIAN_REQUIRE_SERVICES === '1') throw new Error(message);
  console.warn(`\n*** SKIPPING the Python OIP client suite: ${message} ***\n`);
  return false;
}

/** Drives the server at `restUrl` / `grpcAddress` (host:port) with every fixture model; returns the checks. */
export async function runPythonClient(
  restUrl: string,
  grpcAddress: string,
  fixtures: readonly FixtureModel[],
): Promise<Check[]> {
  const dir = mkdtempSync(join(tmpdir(), 'oip-python-'));
  try {
    const spec = join(dir, 'fixtures.json');
    const rows = fixtures.map((f) => ({
      name: f.name,
      inputs_csv: f.inputsCsv,
      predictions_csv: f.predictionsCsv,
      rtol: f.rtol,
      atol: f.atol,
    }));
    writeFileSync(spec, JSON.stringify(rows));
    const args = [
      CLIENT,
      '--rest',
      restUrl,
      '--grpc',
      grpcAddress,
      '--proto-root',
      PROTO_DIR,
      '--fixtures',
      spec,
    ];
    const { stdout } = await promisify(execFile)(PYTHON, args, {
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return (JSON.parse(stdout) as { checks: Check[] }).checks;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
