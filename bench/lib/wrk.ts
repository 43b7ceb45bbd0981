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

/**
 * The wrk script: one fixed body, or several sent in turn per connection (a `request` function, which
 * costs wrk a little per request, so it is used only when there is more than one body). The bodies
 * are written as JSON string literals, which Lua reads the same as long as they are plain ASCII.
 */
function postScript(bodies: readonly string[], delayMs: number): string {
  const pace = delayMs > 0 ? `delay = function()\n  return ${delayMs}\nend\n` : '';
  const head = `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n${pace}`;
  if (bodies.length === 1) return `${head}wrk.body = ${JSON.stringify(bodies[0])}\n`;
  const list = bodies.map((b) => JSON.stringify(b)).join(',\n');
  return `${head}local bodies = {\n${list}\n}\nlocal n = 0\nrequest = function()\n  n = n % #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[n])\nend\n`;
}

/**
 * POSTs `body` as JSON to `url` from one wrk thread with `connections` connections for `seconds`;
 * given several bodies, each connection sends them in turn. With `delayMs` each connection waits that
 * long between an answer and its next request (clients that pace themselves instead of saturating the
 * server; latency is still measured from sending to answer).
 */
export async function wrkPost(
  url: string,
  body: string | readonly string[],
  connections: number,
  seconds: number,
  delayMs = 0,
): Promise<WrkResult> {
  const bodies = typeof body === 'string' ? [body] : body;
  if (bodies.length === 0 || bodies.some((b) => !/^[\x20-\x7e]*$/.test(b))) {
    throw new Error('wrkPost takes one or more bodies of printable ASCII');
  }
  const dir = mkdtempSync(join(tmpdir(), 'wrk-'));
  const script = join(dir, 'post.lua');
  writeFileSync(script, postScript(bodies, Math.round(delayMs)));
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
