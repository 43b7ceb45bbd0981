import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../../src/api/grpc.js';
import { type MeridianProcess, runMeridian, spawnCli, startMeridian } from '../helpers/meridian-process.js';
import { freePort, type RunningServer, serverAvailable, startRedis } from '../helpers/servers.js';

const PORTS = ['--http-port', '0', '--grpc-port', '0'];

function healthCheck(address: string): Promise<string> {
  const proto = loadProto('grpc/health/v1/health.proto') as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const client = new proto.grpc.health.v1.Health(
    address,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    check: (
      req: { service: string },
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: { status: string }) => void,
    ) => void;
  };
  return new Promise((resolve, reject) => {
    client.check(
      { service: '' },
      { deadline: Date.now() + 5000 },
      (err: grpc.ServiceError | null, res: { status: string }) => {
        client.close();
        err ? reject(err) : resolve(res.status);
      },
    );
  });
}

describe('meridian up', { timeout: 120_000 }, () => {
  let dataDir: string;
  let running: MeridianProcess | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-up-'));
  });
  afterEach(async () => {
    await running?.stop('SIGKILL');
    running = undefined;
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts every service on embedded stores, answers health, readiness and metrics, and gRPC health', async () => {
    running = await startMeridian(['--data-dir', dataDir, ...PORTS]);
    expect(running.stdout()).toMatch(/target all/);

    const health = await fetch(`${running.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${running.httpUrl}/readyz`);
    const body = (await ready.json()) as { status: string; stores: Record<string, { ok: boolean }> };
    expect(ready.status).toBe(200);
    expect(Object.keys(body.stores).sort()).toEqual([
      'artifact',
      'offline',
      'online',
      'queue',
      'state',
      'stream',
    ]);
    expect(Object.values(body.stores).every((s) => s.ok)).toBe(true);

    const metrics = await (await fetch(`${running.httpUrl}/metrics`)).text();
    expect(metrics).toContain('meridian_http_request_duration_seconds_bucket');
    expect(metrics).toContain('meridian_process_cpu_seconds_total');

    const missing = await fetch(`${running.httpUrl}/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      code: 'NOT_FOUND',
      error: expect.stringContaining('/v1/nothing-here'),
    });

    expect(await healthCheck(running.grpcAddress)).toBe('SERVING');
  });

  it('finishes an in-flight request on SIGTERM, closes its stores and exits 0', async () => {
    running = await startMeridian(['--data-dir', dataDir, ...PORTS]);
    const { hostname, port } = new URL(running.httpUrl);
    const socket = connect(Number(port), hostname);
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c));
    // Headers sent, body not yet: the request is in flight when the signal arrives.
    socket.write(
      'POST /v1/apply?dryRun=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{',
    );
    await new Promise((r) => setTimeout(r, 200));
    running.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(running.child.exitCode).toBeNull();
    socket.write('}');
    expect(await running.exited).toBe(0);
    // Answered in full, not refused with 503: the request was drained.
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"applied":false');
    socket.destroy();

    // Every store released its files: the same data dir opens again at once.
    running = await startMeridian(['--data-dir', dataDir, ...PORTS]);
    expect((await fetch(`${running.httpUrl}/readyz`)).status).toBe(200);
    expect(await running.stop('SIGINT')).toBe(0);
  });

  it('opens only the stores a single target uses', async () => {
    running = await startMeridian(['--target', 'pipelines', '--data-dir', dataDir, ...PORTS]);
    const body = (await (await fetch(`${running.httpUrl}/readyz`)).json()) as {
      stores: Record<string, unknown>;
    };
    expect(Object.keys(body.stores).sort()).toEqual(['artifact', 'queue', 'state', 'stream']);
  });

  it('stops with the key path and env variable of an invalid setting, without a stack trace', async () => {
    const result = await runMeridian(['up', '--data-dir', dataDir], { MERIDIAN_HTTP_PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('http.port');
    expect(result.stderr).toContain('MERIDIAN_HTTP_PORT');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a bad flag with what it expects', async () => {
    const result = await runMeridian(['up', '--target', 'everything']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('everything');
    expect(result.stderr).toMatch(/all, features, serving, monitoring, pipelines/);
  });

  it('names the data dir when it cannot be created', async () => {
    const result = await runMeridian(['up', '--data-dir', '/etc/hostname/meridian', ...PORTS]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dataDir /etc/hostname/meridian cannot be created');
    expect(result.stderr).toContain('--data-dir');
  });

  // A fresh PGlite directory takes seconds to initialise (WASM initdb): the window this test needs.
  it('stops cleanly when SIGTERM arrives while the stores are still opening', {
    timeout: 120_000,
  }, async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'meridian-up-early-'));
    const child = spawnCli(['up', '--data-dir', fresh, ...PORTS], { MERIDIAN_LOG_LEVEL: 'info' });
    let log = '';
    await new Promise<void>((resolve) =>
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk;
        if (log.includes('opening stores')) resolve();
      }),
    );
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    // The embedded stores were closed: the same directory opens again.
    running = await startMeridian(['--data-dir', fresh, ...PORTS]);
    expect((await fetch(`${running.httpUrl}/readyz`)).status).toBe(200);
    rmSync(fresh, { recursive: true, force: true });
  });

  it('names the URL and what was tried when a configured server is unreachable', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const started = Date.now();
    const result = await runMeridian(['up', '--data-dir', dataDir, ...PORTS], { MERIDIAN_ONLINE_STORE: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
    expect(result.stderr).toMatch(/unavailable/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('prints the resolved config with secrets redacted', async () => {
    const result = await runMeridian(['config'], {
      MERIDIAN_STATE_STORE: 'postgres://app:hunter2@db:5432/meridian',
    });
    expect(result.code).toBe(0);
    const config = JSON.parse(result.stdout) as { stateStore: string; http: { port: number } };
    expect(config.stateStore).toBe('postgres://app:***@db:5432/meridian');
    expect(config.http.port).toBe(8700);
  });
});

describe.runIf(serverAvailable('redis'))(
  'meridian up with a distributed online store',
  { timeout: 120_000 },
  () => {
    let redis: RunningServer;
    let dataDir: string;
    let running: MeridianProcess | undefined;

    beforeAll(async () => {
      redis = await startRedis();
      dataDir = mkdtempSync(join(tmpdir(), 'meridian-up-redis-'));
    });
    afterAll(async () => {
      await running?.stop('SIGKILL');
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers 503 on /readyz naming the store once its server goes away', async () => {
      running = await startMeridian(['--target', 'serving', '--data-dir', dataDir, ...PORTS], {
        MERIDIAN_ONLINE_STORE: redis.url,
      });
      const before = await fetch(`${running.httpUrl}/readyz`);
      expect(before.status).toBe(200);
      expect(
        ((await before.json()) as { stores: Record<string, { at: string }> }).stores.online?.at,
      ).toContain(`127.0.0.1:${redis.port}`);

      await redis.stop();
      const after = await fetch(`${running.httpUrl}/readyz`);
      expect(after.status).toBe(503);
      const body = (await after.json()) as { error: string; stores: Record<string, { ok: boolean }> };
      expect(body.error).toContain('online store');
      expect(body.error).toContain(`127.0.0.1:${redis.port}`);
      expect(body.stores.state?.ok).toBe(true);
      expect(await healthCheck(running.grpcAddress)).toBe('NOT_SERVING');
    });
  },
);
