import { rmSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createJobQueue } from '../../src/stores/queue/index.js';
import type { PgBossJobQueue } from '../../src/stores/queue/pg-boss.js';
import type { JobQueue } from '../../src/stores/queue/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import type { StoreContext } from '../../src/stores/store.js';
import { rejection } from '../helpers/errors.js';
import { pgliteTemplate } from '../helpers/pglite-template.js';
import {
  freePort,
  type RunningServer,
  serverAvailable,
  startPostgres,
  tempStoreDir,
} from '../helpers/servers.js';
import { jobQueueConformance, type QueueFixture } from './queue.js';

/** Short maintenance so an expired job (its worker died) is retried within seconds; short close grace. */
const OPTIONS = { maintenanceIntervalSeconds: 1, shutdownGraceSeconds: 1 };

describe('pg-boss over PGlite', () => {
  // initdb and pg-boss's schema take ~15 s in WASM here: done once, then every test starts from a copy.
  const pglite = pgliteTemplate('pglite-queue', async (template, root) => {
    const ctx = { dataDir: root, logger: silentLogger };
    const state = await createStateStore(`pglite:${template}`, ctx);
    await (await createJobQueue('state', ctx, state)).close();
    await state.close();
  });

  it('rejects an unknown job queue URL with CONFIG_INVALID naming the field and the accepted forms', async () => {
    const dir = pglite.freshDir();
    const ctx = { dataDir: pglite.root, logger: silentLogger };
    const state = await createStateStore(`pglite:${dir}`, ctx);
    try {
      for (const url of ['redis://localhost:6379', 'memory', '']) {
        const err = await rejection(createJobQueue(url, ctx, state));
        expect(err.code).toBe('CONFIG_INVALID');
        expect(err.details.field).toBe('jobQueue');
        expect(err.message).toContain('postgres://');
      }
    } finally {
      await state.close();
    }
  });

  jobQueueConformance('pglite', async (): Promise<QueueFixture> => {
    const dir = pglite.freshDir();
    const ctx: StoreContext = { dataDir: pglite.root, logger: silentLogger };
    let state: StateStore | undefined;
    const queues: JobQueue[] = [];
    const closeAll = async (): Promise<void> => {
      for (const q of queues.splice(0)) await q.close();
      await state?.close();
      state = undefined;
    };
    return {
      async open() {
        state ??= await createStateStore(`pglite:${dir}`, ctx);
        const q = await createJobQueue('state', ctx, state, OPTIONS);
        queues.push(q);
        return q;
      },
      child: { stateUrl: `pglite:${dir}`, queueUrl: 'state', dataDir: pglite.root },
      sharedWithChild: false,
      releaseForChild: closeAll,
      teardown: closeAll,
    };
  });
});

describe.runIf(serverAvailable('postgres'))('pg-boss over PostgreSQL', () => {
  let server: RunningServer;
  let admin: pg.Client;
  let n = 0;

  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  jobQueueConformance('postgres', async (): Promise<QueueFixture> => {
    const name = `queue_${++n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    const ctx: StoreContext = { dataDir: tempStoreDir('pg-queue'), logger: silentLogger };
    const state = await createStateStore(url, ctx);
    const queues: JobQueue[] = [];
    return {
      // The first instance runs on the state store's pool, later ones on connections of their own.
      async open() {
        const q = await createJobQueue(queues.length === 0 ? 'state' : url, ctx, state, OPTIONS);
        queues.push(q);
        return q;
      },
      child: { stateUrl: url, queueUrl: url, dataDir: ctx.dataDir },
      sharedWithChild: true,
      releaseForChild: async () => undefined,
      async teardown() {
        for (const q of queues.splice(0)) await q.close();
        await state.close();
        rmSync(ctx.dataDir, { recursive: true, force: true });
      },
    };
  });

  it('logs and counts the database errors that pg-boss fetch() swallows, and fails ping while the database is down', async () => {
    const name = `queue_outage_${++n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    const warnings: { msg: string; err?: { message: string } }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const ctx: StoreContext = { dataDir: tempStoreDir('pg-queue'), logger };
    const state = await createStateStore(url, ctx);
    const q = (await createJobQueue('state', ctx, state, OPTIONS)) as PgBossJobQueue;
    try {
      await q.createQueue('outage');
      await q.work('outage', async () => undefined, { pollingIntervalSeconds: 0.1 });
      await q.ping();
      expect(q.sqlFailures).toBe(0);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const deadline = Date.now() + 5000;
      while (!warnings.some((w) => w.msg === 'job queue SQL failed') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const failed = warnings.find((w) => w.msg === 'job queue SQL failed');
      expect(failed?.err?.message).toBeTruthy();
      expect(q.sqlFailures).toBeGreaterThan(0);
      expect((await rejection(q.ping())).code).toBe('STORE_UNAVAILABLE');
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await q.ping();
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await q.close();
      await state.close();
      rmSync(ctx.dataDir, { recursive: true, force: true });
    }
  });

  it('fails fast with STORE_UNAVAILABLE naming the redacted URL when nothing listens', async () => {
    const ctx = { dataDir: tempStoreDir('pg-queue'), logger: silentLogger };
    const state = await createStateStore(server.url, ctx);
    const port = await freePort();
    const started = Date.now();
    try {
      const err = await rejection(
        createJobQueue(`postgres://boss:hunter2@127.0.0.1:${port}/jobs`, ctx, state),
      );
      expect(Date.now() - started).toBeLessThan(6000);
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect(err.message).toContain(`job queue store at postgres://boss:***@127.0.0.1:${port}/jobs`);
      expect(err.message).not.toContain('hunter2');
    } finally {
      await state.close();
      rmSync(ctx.dataDir, { recursive: true, force: true });
    }
  });
});
