import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configKeyPaths, envNameFor, loadConfig } from './config.js';
import { MeridianError } from './errors.js';

describe('config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (env: NodeJS.ProcessEnv = {}, overrides = {}) => loadConfig({ cwd: dir, env, overrides });

  it('uses embedded stores and the documented ports when nothing is set', () => {
    const config = load();
    expect(config).toMatchObject({
      target: 'all',
      dataDir: './.meridian',
      http: { port: 8700 },
      grpc: { port: 8701 },
      onlineStore: 'lmdb',
      stateStore: 'pglite',
      jobQueue: 'state',
      eventStream: 'memory',
      artifactStore: 'file',
      offlineStore: 'duckdb',
    });
  });

  it('reads meridian.yaml from the working directory', () => {
    writeFileSync(join(dir, 'meridian.yaml'), 'http:\n  port: 9100\nonlineStore: redis://127.0.0.1:6379\n');
    expect(load()).toMatchObject({
      http: { port: 9100, host: '0.0.0.0' },
      onlineStore: 'redis://127.0.0.1:6379',
    });
  });

  it('lets MERIDIAN_* variables override the file and flags override both', () => {
    writeFileSync(join(dir, 'meridian.yaml'), 'http:\n  port: 9100\ngrpc:\n  port: 9101\n');
    const config = load(
      {
        MERIDIAN_HTTP_PORT: '9200',
        MERIDIAN_ONLINE_STORE: 'redis://10.0.0.1:6379',
        MERIDIAN_DATA_DIR: '/data',
      },
      { grpc: { port: 9300 } },
    );
    expect(config.http.port).toBe(9200);
    expect(config.grpc.port).toBe(9300);
    expect(config.onlineStore).toBe('redis://10.0.0.1:6379');
    expect(config.dataDir).toBe('/data');
  });

  it('derives an env variable for every key of the schema', () => {
    const names = configKeyPaths().map(envNameFor);
    expect(names).toContain('MERIDIAN_HTTP_PORT');
    expect(names).toContain('MERIDIAN_ONLINE_STORE');
    expect(names).toContain('MERIDIAN_RESOURCES_MEMORY_CEILING');
    expect(names).toContain('MERIDIAN_AZURE_CONNECTION_STRING');
    expect(new Set(names).size).toBe(names.length);
  });

  it('stops start-up with the key path, its env variable and the reason for a bad value', () => {
    const error = captureError(() => load({ MERIDIAN_HTTP_PORT: 'eighty' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('http.port');
    expect(error.message).toContain('MERIDIAN_HTTP_PORT');
    expect(error.details.field).toBe('http.port');
  });

  it('reads boolean flags from env strings, so "false" turns a feature off', () => {
    expect(load({ MERIDIAN_FEATURES_CONSUME_EVENTS: 'false' }).features.consumeEvents).toBe(false);
    expect(load({ MERIDIAN_FEATURES_CONSUME_EVENTS: '1' }).features.consumeEvents).toBe(true);
    const error = captureError(() => load({ MERIDIAN_FEATURES_CONSUME_EVENTS: 'maybe' }));
    expect(error.message).toContain(
      'features.consumeEvents (env MERIDIAN_FEATURES_CONSUME_EVENTS): must be true or false',
    );
  });

  it('sizes model worker pools from serving.*, refusing more warm threads than the maximum', () => {
    const config = load({ MERIDIAN_SERVING_WORKERS: '3', MERIDIAN_SERVING_MIN_WORKERS: '2' });
    expect(config.serving).toMatchObject({ workers: 3, minWorkers: 2 });
    expect(load({ MERIDIAN_SERVING_WORKERS: '0', MERIDIAN_SERVING_MIN_WORKERS: '4' }).serving.workers).toBe(
      0,
    );
    const error = captureError(() =>
      load({ MERIDIAN_SERVING_WORKERS: '1', MERIDIAN_SERVING_MIN_WORKERS: '2' }),
    );
    expect(error.details.field).toBe('serving.minWorkers');
    expect(error.message).toContain('must not exceed serving.workers');
  });

  it('names an unknown key in meridian.yaml so a typo does not pass silently', () => {
    writeFileSync(join(dir, 'meridian.yaml'), 'onlineStor: redis://x\n');
    const error = captureError(() => load());
    expect(error.message).toContain('unknown key onlineStor');
  });

  it('rejects a target that does not exist, listing the ones that do', () => {
    const error = captureError(() => load({}, { target: 'everything' }));
    expect(error.message).toContain('target');
    expect(error.message).toContain('"features"');
  });

  it('rejects a file that is not YAML, naming the file', () => {
    writeFileSync(join(dir, 'meridian.yaml'), 'http: [port: 1\n');
    const error = captureError(() => load());
    expect(error.message).toContain(join(dir, 'meridian.yaml'));
    expect(error.message).toContain('not valid YAML');
  });

  it('fails when an explicitly named config file does not exist', () => {
    const error = captureError(() => loadConfig({ cwd: dir, env: {}, file: 'missing.yaml' }));
    expect(error.message).toContain('missing.yaml');
  });

  it('takes the Azure connection string from AZURE_STORAGE_CONNECTION_STRING when no MERIDIAN_ one is set', () => {
    expect(
      load({ AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }).azure.connectionString,
    ).toBe('UseDevelopmentStorage=true');
  });
});

function captureError(fn: () => unknown): MeridianError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MeridianError) return err;
    throw err;
  }
  throw new Error('expected an error');
}
