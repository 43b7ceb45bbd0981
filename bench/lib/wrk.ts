/**
 * wrk as the load generator of the HTTP benchmarks: it costs about a twentieth of a core against a
 * quarter for autocannon, which matters on 2 cores, and reports sub-millisecond latencies.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface WrkResult {
  rps: number;
  /** Latencies in ms. */
  p50: number;
  p99: number;
  /** Non-2xx answers plus socket errors. */
  errors: number;
}

/** Installs Debian's wrk when it is missing (the benches run as root on these machines). */
export function ensureWrk(): void {
  if (spawnSync('wrk', ['-v']).error === undefined) return;
  console.error('bench: wrk is missing; installing the Debian package (apt-get install -y wrk)...');
  const installed = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  if (installed.status !== 0 || spawnSync('wrk', ['-v']).error !== undefined) {
    console.error('bench: could not install wrk; run `apt-get install -y wrk` as root and try again');
    process.exit(1);
  }
}

const toMs = (value: string, unit: string): number =>
  Number(value) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!;

/** POSTs `body` as JSON to `url` from one wrk thread with `connections` connections for `seconds`. */
export async function wrkPost(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wrk-'));
  const script = join(dir, 'post.lua');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`,
  );
  try {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url];
    const { stdout: out } = await promisify(execFile)('wrk', args);
    const latency = (q: string) => {
      const m = out.match(new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`));
      return m ? toMs(m[1]!, m[2]!) : Number.NaN;
    };
    const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
    const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
    const errors = non2xx + (socket ? socket.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
    return {
      rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? Number.NaN),
      p50: latency('50'),
      p99: latency('99'),
      errors,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
