/**
 * Throw-away real servers for tests: each starts on a free loopback port in its own temp directory
 * and is stopped (and its directory removed) by `stop()`. When a binary is missing, suites skip with
 * a loud message naming the package to install — unless MERIDIAN_REQUIRE_SERVICES=1, where they fail.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type ServerKind = 'redis' | 'nats' | 'postgres' | 'azurite';

/** What a suite may need: a server it starts, or a tool it runs (promtool validates the Prometheus rules). */
export type RequiredKind = ServerKind | 'promtool';

export interface RunningServer {
  kind: ServerKind;
  /** Connection URL (or connection string for Azurite). */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const PACKAGES: Record<RequiredKind, string> = {
  redis: 'apt-get install -y redis-server',
  nats: 'apt-get install -y nats-server',
  postgres: 'apt-get install -y postgresql',
  azurite: 'npm ci (azurite is a devDependency)',
  promtool: 'apt-get install -y prometheus',
};

const requireServices = (): boolean => process.env.MERIDIAN_REQUIRE_SERVICES === '1';

function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const AZURITE_BIN = resolve(import.meta.dirname, '../../node_modules/.bin/azurite-blob');

function binaryPresent(kind: RequiredKind): boolean {
  switch (kind) {
    case 'redis':
      return onPath('redis-server');
    case 'nats':
      return onPath('nats-server');
    case 'postgres':
      return postgresBin() !== null;
    case 'azurite':
      return existsSync(AZURITE_BIN);
    case 'promtool':
      return onPath('promtool');
  }
}

/**
 * Whether a suite needing this server can run. Missing: throws under MERIDIAN_REQUIRE_SERVICES=1
 * (so CI fails), otherwise warns loudly and answers false (use with `describe.runIf`).
 */
export function serverAvailable(kind: RequiredKind): boolean {
  if (binaryPresent(kind)) return true;
  const message = `${kind} is not installed: run \`${PACKAGES[kind]}\` to run the ${kind} suites`;
  if (requireServices()) throw new Error(`${message} (MERIDIAN_REQUIRE_SERVICES=1 makes this a failure)`);
  console.warn(`\n*** SKIPPING ${kind} suites: ${message} ***\n`);
  return false;
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 30_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((done) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function tempDir(kind: string): string {
  return mkdtempSync(join(tmpdir(), `meridian-${kind}-`));
}

async function spawnServer(
  kind: ServerKind,
  command: string,
  args: string[],
  port: number,
  dir: string,
): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitForPort(port, 30_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${kind} did not start: ${(err as Error).message}\n${stderr}`);
  }
  return child;
}

function stopChild(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

export async function startRedis(): Promise<RunningServer> {
  const port = await freePort();
  const dir = tempDir('redis');
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const child = await spawnServer('redis', 'redis-server', args, port, dir);
  return { kind: 'redis', url: `redis://127.0.0.1:${port}/0`, port, stop: stopChild(child, dir) };
}

export async function startNats(): Promise<RunningServer> {
  const port = await freePort();
  const dir = tempDir('nats');
  const child = await spawnServer(
    'nats',
    'nats-server',
    ['-js', '-sd', dir, '-p', String(port), '-a', '127.0.0.1'],
    port,
    dir,
  );
  return { kind: 'nats', url: `nats://127.0.0.1:${port}`, port, stop: stopChild(child, dir) };
}

const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function startAzurite(): Promise<RunningServer> {
  const port = await freePort();
  const dir = tempDir('azurite');
  const args = [
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
    '--location',
    dir,
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
  ];
  const child = await spawnServer('azurite', AZURITE_BIN, args, port, dir);
  const url =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
  return { kind: 'azurite', url, port, stop: stopChild(child, dir) };
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root (initdb refuses to run as root). */
function runPg(bin: string, args: string[]): void {
  if (isRoot()) {
    const quoted = [bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    execFileSync('su', ['postgres', '-c', quoted], { stdio: 'pipe' });
  } else {
    execFileSync(bin, args, { stdio: 'pipe' });
  }
}

export async function startPostgres(): Promise<RunningServer> {
  const bin = postgresBin();
  if (!bin) throw new Error(`postgres is not installed: ${PACKAGES.postgres}`);
  const port = await freePort();
  const dir = tempDir('postgres');
  if (isRoot()) execFileSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  try {
    runPg(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    runPg(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', 'start']);
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start: ${e.stderr?.toString() ?? e.message}`);
  }
  return {
    kind: 'postgres',
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      try {
        runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function startServer(kind: ServerKind): Promise<RunningServer> {
  switch (kind) {
    case 'redis':
      return startRedis();
    case 'nats':
      return startNats();
    case 'postgres':
      return startPostgres();
    case 'azurite':
      return startAzurite();
  }
}

/** A fresh temp directory for embedded stores; remove it with `rmSync(dir, {recursive: true})`. */
export const tempStoreDir = (kind: string): string => tempDir(kind);
