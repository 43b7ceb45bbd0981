import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerModelRoutes } from '../../src/api/routes/models.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import { freePort } from '../helpers/servers.js';
import {
  LIGHTGBM_FIXTURES,
  openRegistry,
  prepareTemplate,
  type RegistryFixture,
} from '../serving/registry-fixtures.js';

const MODEL = join(LIGHTGBM_FIXTURES, 'regression', 'model.txt');

describe('meridian models against a server with the registry routes', { timeout: 120_000 }, () => {
  const template = pgliteTemplate('models-cli', prepareTemplate);
  let f: RegistryFixture;
  let app: FastifyInstance;
  let url: string;
  const meridian = (...args: string[]) => runMeridian(['models', ...args, '--url', url]);

  beforeAll(async () => {
    f = await openRegistry(template);
    app = createHttpServer({
      logger: silentLogger,
      metrics: createMetricsRegistry(false),
      stores: { state: f.state, artifact: f.artifacts },
      isAccepting: () => true,
    });
    registerModelRoutes(app, { registry: f.registry });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await f?.close();
  });

  it('pushes, lists, promotes, describes and archives versions', async () => {
    const inputs = Array.from({ length: 15 }, (_, i) => `r${i}`).join(',');
    const first = await meridian(
      'push',
      'demand',
      MODEL,
      '--format',
      'lightgbm',
      '--inputs',
      inputs,
      '--features',
      'demand_fs',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Pushed demand version 1 (staging)');
    expect((await meridian('push', 'demand', MODEL, '--format', 'lightgbm')).stdout).toContain('version 2');

    expect((await meridian('promote', 'demand', '1')).stdout).toBe('demand version 1 is now production\n');
    const second = await meridian('promote', 'demand', '2');
    expect(second.stdout).toBe('demand version 2 is now production (version 1 moved to staging)\n');
    const list = await meridian('list');
    expect(list.stdout).toMatch(/^NAME\s+LATEST\s+PRODUCTION\s+CREATED\ndemand\s+2\s+2\s+\S+\n$/);

    expect((await meridian('archive', 'demand', '1')).code).toBe(0);
    const described = JSON.parse((await meridian('describe', 'demand')).stdout);
    expect(described.versions.map((v: { stage: string }) => v.stage)).toEqual(['archived', 'production']);
    expect(described.versions[0]).toMatchObject({
      featureService: 'demand_fs',
      createdBy: expect.any(String),
    });
    expect(described.versions[0].inputs).toHaveLength(15);
  });

  it('ends a rejected push or an unknown version with one clear line and exit code 1', async () => {
    const bad = join(template.root, 'bad.txt');
    writeFileSync(bad, 'tree\nversion=v4\nnot really a model\n');
    const corrupt = await meridian('push', 'broken', bad, '--format', 'lightgbm');
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/^meridian: file: /);
    const missing = await meridian('promote', 'demand', '9');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no version 9');
  });

  it('stores the policy given with --missing, which describe then shows', async () => {
    const policy = { default: 'nan', values: { r0: 0, r3: -1.5 } };
    const pushed = await meridian(
      'push',
      'churn',
      MODEL,
      '--format',
      'lightgbm',
      '--features',
      'churn_fs',
      '--missing',
      JSON.stringify(policy),
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    await meridian('push', 'churn', MODEL, '--format', 'lightgbm');
    const described = JSON.parse((await meridian('describe', 'churn')).stdout);
    expect(described.versions.map((v: { missingPolicy?: unknown }) => v.missingPolicy)).toEqual([
      policy,
      undefined,
    ]);
  });

  it('refuses --missing that is not JSON, naming the flag and showing the policy syntax, exit code 1', async () => {
    const result = await meridian('push', 'churn', MODEL, '--format', 'lightgbm', '--missing', 'nan');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("option '--missing <json>' argument 'nan' is invalid");
    expect(result.stderr.replace(/\s+/g, ' ')).toContain(
      '{"default": "error"|"nan", "values": {"amount": 0}}',
    );
    expect(result.stdout).toBe('');
  });

  it('refuses a --missing policy it cannot follow, naming the flag, the field and the fix, and stores nothing', async () => {
    for (const [missing, field, fix] of [
      ['{"default": "zero"}', 'missing.default', 'send {"default": "error"|"nan", "values": {"amount": 0}}'],
      ['{"values": {"r0": "0"}}', 'missing.values.r0', 'use "default": "nan" for NaN'],
    ] as const) {
      const result = await meridian('push', 'refused', MODEL, '--format', 'lightgbm', '--missing', missing);
      expect(result.code, missing).toBe(1);
      expect(result.stderr).toContain(
        `option '--missing <json>' argument '${missing}' is invalid. ${field}: `,
      );
      expect(result.stderr).toContain(fix);
    }
    const described = await meridian('describe', 'refused');
    expect(described.code).toBe(1);
    expect(described.stderr).toContain('refused');
  });

  it('names the server it cannot reach', async () => {
    const port = await freePort();
    const result = await runMeridian(['models', 'list', '--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Meridian at http://127.0.0.1:${port}`);
  });
});
