/**
 * The feature registry end to end: REST apply/list/describe on a real PGlite state store, the SDK
 * over a listening server, the `meridian apply` CLI as a child process, and the compile-time checks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as example from '../../examples/churn/features.js';
import { createHttpServer } from '../../src/api/http.js';
import { registerRegistryRoutes } from '../../src/api/routes/registry.js';
import { collectDefinitions } from '../../src/cli/apply.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { resolveFeatureRefs } from '../../src/features/catalog.js';
import { FeatureRegistry } from '../../src/features/registry.js';
import { MeridianClient } from '../../src/sdk/client.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { expectCode } from '../helpers/errors.js';
import { REPO_ROOT } from '../helpers/meridian-process.js';
import {
  freePort,
  type RunningServer,
  serverAvailable,
  startPostgres,
  tempStoreDir,
} from '../helpers/servers.js';

const exampleDefinitions = collectDefinitions(example, 'examples/churn/features.ts');

/** A small project; `sql` replaces the SQL view's query, `withService: false` drops the service. */
function project(options: { sql?: string; withService?: boolean } = {}) {
  return {
    entities: [USER],
    sources: [activitySource()],
    featureViews: [
      userActivityView({ ttl: '30d' }),
      {
        name: 'user_spend',
        entities: ['user'],
        source: 'activity',
        features: { capped: 'float64' },
        sql: options.sql ?? 'SELECT user_id, ts, LEAST(amount, 100) AS capped FROM {{source}}',
      },
    ],
    featureServices: options.withService === false ? [] : [{ name: 'churn', features: ['user_activity:*'] }],
  };
}

let dir: string;
let state: StateStore;
let registry: FeatureRegistry;
let app: FastifyInstance;

beforeAll(async () => {
  dir = tempStoreDir('registry');
  state = await createStateStore(`pglite:${join(dir, 'state')}`, { dataDir: dir, logger: silentLogger });
  registry = await FeatureRegistry.open(state);
  app = createHttpServer({
    logger: silentLogger,
    metrics: createMetricsRegistry(false),
    stores: { state },
    isAccepting: () => true,
  });
  registerRegistryRoutes(app, { registry });
  await app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await state?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const url = () => `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

async function post(payload: unknown, query = '') {
  const response = await app.inject({ method: 'POST', url: `/v1/apply${query}`, payload: payload as object });
  return { status: response.statusCode, body: response.json() };
}

async function get(path: string) {
  const response = await app.inject({ method: 'GET', url: path });
  return { status: response.statusCode, body: response.json() };
}

describe('POST /v1/apply', () => {
  it('answers the plan of a dry run and writes nothing', async () => {
    await post({});
    const { status, body } = await post(project(), '?dryRun=true');
    expect(status).toBe(200);
    expect(body.applied).toBe(false);
    expect(body.plan.featureViews.added).toEqual(['user_activity', 'user_spend']);
    expect((await get('/v1/feature-views')).body).toEqual({ featureViews: [] });
    expect(registry.views()).toEqual([]);
  });

  it('applies a project, lists it, and plans no change when the same payload comes again', async () => {
    await post({});
    const first = await post(project());
    expect(first.body.applied).toBe(true);
    expect(first.body.plan.entities.added).toEqual(['user']);
    const { body } = await get('/v1/feature-views');
    expect(body.featureViews.map((v: { name: string }) => v.name)).toEqual(['user_activity', 'user_spend']);
    expect(registry.view('user_activity')?.keys).toEqual([{ name: 'user_id', type: 'int64' }]);
    const again = await post(project());
    for (const kind of Object.values(again.body.plan) as { added: []; changed: []; removed: [] }[]) {
      expect([...kind.added, ...kind.changed, ...kind.removed]).toEqual([]);
    }
  });

  it('gives a view whose sql changed the next transform version and records both versions', async () => {
    await post(project());
    const before = (await get('/v1/feature-views/user_spend')).body.transformVersion as number;
    const newSql = 'SELECT user_id, ts, LEAST(amount, 500) AS capped FROM {{source}}';
    const { body } = await post(project({ sql: newSql }));
    expect(body.plan.featureViews.changed).toEqual(['user_spend']);
    expect(body.plan.featureViews.transformVersions).toEqual({ user_spend: before + 1 });
    const described = (await get('/v1/feature-views/user_spend')).body;
    expect(described.transformVersion).toBe(before + 1);
    expect(described.sql).toBe(newSql);
    const versions = described.versions as { version: number; definition: { sql: string } }[];
    expect(versions.map((v) => v.version).slice(-2)).toEqual([before, before + 1]);
    expect(versions.at(-1)?.definition.sql).toBe(newSql);
    expect(registry.view('user_spend')?.transformVersion).toBe(before + 1);
  });

  it('removes an object the payload no longer has, and describe then answers 404 naming it', async () => {
    await post(project());
    const { body } = await post(project({ withService: false }));
    expect(body.plan.featureServices.removed).toEqual(['churn']);
    const missing = await get('/v1/feature-services/churn');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('no feature service "churn"');
    expect((await get('/v1/entities/account')).body.error).toContain('no entity "account"');
    expect(registry.service('churn')).toBeUndefined();
  });

  it('refuses to remove a source a kept view reads, naming both, and changes nothing', async () => {
    await post(project());
    const { status, body } = await post({ ...project(), sources: [] });
    expect(status).toBe(400);
    expect(body.details.field).toBe('featureViews[0].source');
    expect(body.error).toContain(
      'cannot remove source "activity": feature view "user_activity" still uses it',
    );
    expect((await get('/v1/sources/activity')).status).toBe(200);
  });

  it('rejects a cycle among views, naming it', async () => {
    const p = project();
    const reads = (name: string, upstream: string) => ({
      name,
      entities: ['user'],
      views: [upstream],
      features: { amount: 'float64' },
    });
    const { status, body } = await post({
      ...p,
      featureViews: [...p.featureViews, reads('a', 'b'), reads('b', 'a')],
    });
    expect(status).toBe(400);
    expect(body.error).toContain('a -> b -> a');
  });

  it('names a bad reference by its JSON path', async () => {
    const p = project();
    p.featureViews[1]!.source = 'clicks';
    const { status, body } = await post(p);
    expect(status).toBe(400);
    expect(body.code).toBe('INVALID_ARGUMENT');
    expect(body.details.field).toBe('featureViews[1].source');
    expect(body.error).toContain('no source "clicks"');
  });

  it('answers 400 for a body that is not JSON, and for a dryRun that is not a boolean', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/apply',
      headers: { 'content-type': 'application/json' },
      payload: '{"entities": [',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.field).toBe('body');
    const query = await post(project(), '?dryRun=maybe');
    expect(query.status).toBe(400);
    expect(query.body.details.field).toBe('dryRun');
  });

  it('applies the example project cleanly, and the catalog resolves its feature service', async () => {
    const { status, body } = await post(exampleDefinitions);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(registry.viewsOfSource('activity').map((v) => v.name)).toEqual([
      'user_activity',
      'user_spend',
      'user_spend_band',
    ]);
    const service = registry.service('churn_model')!;
    expect(resolveFeatureRefs(registry, service.features).map((r) => r.ref)).toEqual(service.features);
    expect(registry.view('user_activity')?.ttlMs).toBe(30 * 24 * 3600 * 1000);
  });

  it('loads what was applied when a registry is opened again on the same store', async () => {
    await post(exampleDefinitions);
    const reopened = await FeatureRegistry.open(state);
    expect(reopened.views()).toEqual(registry.views());
    expect(reopened.entity('user')).toEqual(registry.entity('user'));
  });
});

describe('MeridianClient', () => {
  it('applies, lists and describes through a listening server', async () => {
    const client = new MeridianClient({ url: url() });
    await client.apply({});
    const dry = await client.apply(exampleDefinitions, { dryRun: true });
    expect(dry).toMatchObject({ applied: false, plan: { featureServices: { added: ['churn_model'] } } });
    expect(await client.list('entities')).toEqual([]);
    await client.apply(exampleDefinitions);
    expect((await client.list('feature-views')).map((v) => v.name)).toEqual([
      'user_activity',
      'user_spend',
      'user_spend_band',
    ]);
    expect((await client.describe('sources', 'activity')).timestampField).toBe('ts');
  });

  it('raises the server error as a MeridianError with its code', async () => {
    const client = new MeridianClient({ url: url() });
    const err = await expectCode(client.describe('feature-views', 'nope'), 'NOT_FOUND');
    expect(err.message).toContain('"nope"');
    await expectCode(
      client.apply({ entities: [{ name: 'Bad', joinKeys: ['id'] }] }),
      'INVALID_ARGUMENT',
      'entities[0].name',
    );
  });

  it('names the URL and `meridian up` when no server answers', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const err = await expectCode(new MeridianClient({ url: nowhere }).list('entities'), 'UNAVAILABLE');
    expect(err.message).toContain(nowhere);
    expect(err.message).toContain('meridian up');
  });
});

describe.runIf(serverAvailable('postgres'))('on PostgreSQL', () => {
  let server: RunningServer;
  const opened: StateStore[] = [];
  const open = async () => {
    const store = await createStateStore(server.url, { dataDir: dir, logger: silentLogger });
    opened.push(store);
    return FeatureRegistry.open(store);
  };

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    for (const store of opened) await store.close();
    await server?.stop();
  });

  it('applies, versions and reloads the same way as on PGlite', async () => {
    const first = await open();
    await first.apply(project());
    const sql = 'SELECT user_id, ts, amount AS capped FROM {{source}}';
    const { plan } = await first.apply(project({ sql }));
    expect(plan.featureViews.transformVersions).toEqual({ user_spend: 2 });
    const second = await open();
    expect(second.views()).toEqual(first.views());
    expect((await second.versions('user_spend')).map((v) => v.definition.sql)).toEqual([
      project().featureViews[1]!.sql,
      sql,
    ]);
  });

  it('serialises applies from two processes sharing the database, so each version is recorded once', async () => {
    const [a, b] = [await open(), await open()];
    const payloads = [1, 2, 3, 4].map((n) =>
      project({ sql: `SELECT user_id, ts, amount * ${n} AS capped FROM {{source}}` }),
    );
    await Promise.all(payloads.map((p, i) => (i % 2 ? a : b).apply(p)));
    await a.refresh();
    const versions = await a.versions('user_spend');
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.view('user_spend')?.transformVersion).toBe(6);
  });
});

/**
 * Runs the apply commands in a child process, as `meridian` runs them: a commander program with
 * `registerApplyCommands`, and a MeridianError printed as one line with exit code 1.
 */
function cli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const program = `
    import { Command } from 'commander';
    import { registerApplyCommands } from './src/cli/apply.ts';
    const program = new Command('meridian');
    registerApplyCommands(program);
    try { await program.parseAsync(process.argv.slice(1), { from: 'user' }); }
    catch (err) { process.stderr.write('meridian: ' + err.message + '\\n'); process.exitCode = 1; }`;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', program, ...args],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c));
  child.stderr?.on('data', (c: Buffer) => (stderr += c));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`meridian ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('meridian apply', () => {
  it('shows the plan of the example project on --dry-run without applying, then applies it', async () => {
    await post({});
    const dry = await cli(['apply', 'examples/churn', '--dry-run', '--url', url()]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/\+ add\s+feature view\s+user_spend\s+transform version \d+/);
    expect(dry.stdout).toContain('Dry run: 6 to add, 0 to change, 0 to remove; nothing was written');
    expect(registry.views()).toEqual([]);

    const applied = await cli(['apply', 'examples/churn/features.ts', '--url', url()]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/\+ add\s+feature service\s+churn_model/);
    expect(applied.stdout).toContain('Applied to');
    expect(registry.service('churn_model')?.features).toHaveLength(4);

    const again = await cli(['apply', 'examples/churn', '--url', url()]);
    expect(again.stdout).toContain('No changes');
  }, 120_000);

  it('lists and describes what is registered', async () => {
    await post(exampleDefinitions);
    const list = await cli(['features', 'list', 'views', '--url', url()]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/feature-views\s+user_spend\s+source activity, 2 features/);
    const describeView = await cli(['features', 'describe', 'view', 'user_activity', '--url', url()]);
    expect(describeView.code, describeView.stderr).toBe(0);
    const described = JSON.parse(describeView.stdout);
    expect(described.features).toEqual({ amount: 'float64', country: 'string', action: 'string' });
    expect(described.versions.length).toBeGreaterThan(0);
  }, 120_000);

  it('prints one line naming the URL and `meridian up` when no server answers', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const result = await cli(['apply', 'examples/churn', '--url', nowhere]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(nowhere);
    expect(result.stderr).toContain('meridian up');
  }, 60_000);

  it('takes a default export shaped like the payload, and names the object a bad field belongs to', async () => {
    const file = join(dir, 'default-export.ts');
    const payload = project();
    payload.featureViews[1]!.source = 'clicks';
    writeFileSync(file, `export default ${JSON.stringify(payload)};\n`);
    const result = await cli(['apply', file, '--url', url()]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'meridian: feature view "user_spend": featureViews[1].source: no source "clicks" in the definitions; define source "clicks" or fix the name',
    );
  }, 60_000);

  it('names the path when there is no definitions module', async () => {
    const result = await cli(['apply', 'examples/none.ts', '--url', url()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no definitions module at');
  }, 60_000);
});

describe('typed definitions', () => {
  it('typecheck cleanly, so every @ts-expect-error in test/types/definitions.ts is still an error', async () => {
    const child = spawn(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c));
    child.stderr?.on('data', (c: Buffer) => (output += c));
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect(code, output).toBe(0);
  }, 240_000);
});
