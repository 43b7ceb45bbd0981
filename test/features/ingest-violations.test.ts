import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { registerIngestRoutes } from '../../src/api/routes/ingest.js';
import { sleep } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { createFileLoader } from '../../src/features/ingest/files/load.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { startEventConsumers } from '../../src/features/ingest/stream-consumer.js';
import { eventsTopic, publishEvents } from '../../src/features/ingest/stream-producer.js';
import { openIngestQuality } from '../../src/features/quality/recorder.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { MemoryEventStream } from '../../src/stores/stream/memory.js';
import {
  activityEvent,
  OPEN_TIMEOUT_MS,
  openQualityStores,
  type QualityStores,
  qualityIngestor,
  T0,
  violationRows,
} from './quality-stores.js';

let s: QualityStores;
let ingestor: Ingestor;
let app: FastifyInstance;

beforeAll(async () => {
  s = await openQualityStores('violations');
  ingestor = qualityIngestor(s);
  app = createHttpServer({
    logger: silentLogger,
    metrics: s.metrics,
    stores: { offline: s.offline, online: s.online },
    isAccepting: () => true,
  });
  registerIngestRoutes(app, { ingestor });
  await app.ready();
}, OPEN_TIMEOUT_MS);

afterAll(async () => {
  await app?.close();
  await ingestor?.close();
  await s?.close();
});

beforeEach(async () => {
  await s.quality.flush();
  await s.state.query('DELETE FROM feature_ingest_violations');
  s.clock.set(T0);
});

const push = (events: unknown[]) =>
  app.inject({ method: 'POST', url: '/v1/sources/activity/events', payload: { events } });

async function scrape(): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/metrics' })).body;
}

/** Counts the upserts of violations a state store runs, passing every call through to it. */
function countingUpserts(state: StateStore): { state: StateStore; upserts: () => number } {
  let upserts = 0;
  const counted = Object.create(state) as StateStore;
  counted.query = (sql, params) => {
    if (sql.includes('INSERT INTO feature_ingest_violations')) upserts++;
    return state.query(sql, params);
  };
  return { state: counted, upserts: () => upserts };
}

describe('ingestion violations', () => {
  it('counts a rejected push under the field the error names, in the state store and on /metrics', async () => {
    const res = await push([activityEvent(1, 0), { ...activityEvent(2, 0), amount: 'lots' }]);
    expect(res.statusCode).toBe(400);
    await s.quality.flush();
    expect(await violationRows(s.state)).toEqual([
      {
        source: 'activity',
        field: 'amount',
        code: 'INVALID_ARGUMENT',
        minute: T0,
        count: 1,
        sample: expect.stringMatching(/^events\[1\]\.amount: "lots" is not float64/),
      },
    ]);
    expect(await scrape()).toMatch(
      /meridian_ingest_violations_total\{source="activity",field="amount",code="INVALID_ARGUMENT"\} [1-9]/,
    );
  });

  it('aggregates a flood of bad pushes into one row per field, code and minute, written by one upsert', async () => {
    const { state, upserts } = countingUpserts(s.state);
    const quality = await openIngestQuality({
      state,
      catalog: s.registry,
      clock: s.clock,
      flushMs: 3_600_000,
    });
    const flooded = createIngestor({ offline: s.offline, online: s.online, catalog: s.registry, quality });
    const bad = { ...activityEvent(3, 0), ts: undefined };
    const pushes = Array.from({ length: 300 }, () => flooded.push('activity', [bad]).catch(() => 'rejected'));
    expect(new Set(await Promise.all(pushes))).toEqual(new Set(['rejected']));
    s.clock.advance(60_000);
    await flooded.push('activity', [bad]).catch(() => undefined);
    await quality.flush();
    expect(upserts()).toBe(1);
    const rows = await violationRows(s.state);
    expect(rows.map((r) => [r.field, r.minute, r.count])).toEqual([
      ['ts', T0, 300],
      ['ts', T0 + 60_000, 1],
    ]);
    await flooded.close();
  });

  it('records a field the source does not declare as _unknown, naming it in the sample', async () => {
    await push([{ ...activityEvent(4, 0), amuont: 1 }]);
    await push([{ ...activityEvent(4, 0), zz9: 1 }]);
    await s.quality.flush();
    const rows = await violationRows(s.state);
    expect(rows.map((r) => [r.field, r.count])).toEqual([['_unknown', 2]]);
    expect(rows[0]!.sample).toMatch(/^events\[0\]\.amuont: is not a field of source "activity"/);
  });

  it('does not record a push to a source that does not exist', async () => {
    expect(
      (await app.inject({ method: 'POST', url: '/v1/sources/nope/events', payload: { events: [] } }))
        .statusCode,
    ).toBe(404);
    await s.quality.flush();
    expect(await violationRows(s.state)).toEqual([]);
  });

  it('counts each dead-lettered stream message once, though its merged push was retried alone', async () => {
    const stream = new MemoryEventStream();
    const consumers = await startEventConsumers({
      stream,
      catalog: s.registry,
      ingestor,
      quality: s.quality,
      logger: silentLogger,
      options: { ackWaitMs: 1000, retryBaseMs: 50, retryMaxMs: 200, drainTimeoutMs: 200, maxInFlight: 10 },
    });
    try {
      const publish = (events: unknown) =>
        publishEvents(stream, 'activity', events, { joinKeys: ['user_id'] });
      await publish([activityEvent(5, 1), { ...activityEvent(5, 2), amount: 'lots' }]);
      await publish(activityEvent(5, 3));
      await stream.publish(eventsTopic('activity'), [
        { key: 'junk', data: new TextEncoder().encode('{oops') },
      ]);
      const deadline = Date.now() + 10_000;
      for (;;) {
        await s.quality.flush();
        const fields = (await violationRows(s.state)).map((r) => r.field);
        if (fields.includes('amount') && fields.includes('message')) break;
        if (Date.now() > deadline) throw new Error(`timed out with violations ${fields.join(', ')}`);
        await sleep(25);
      }
      await sleep(300);
      await s.quality.flush();
      expect((await violationRows(s.state)).map((r) => [r.field, r.code, r.count])).toEqual([
        ['amount', 'INVALID_ARGUMENT', 1],
        ['message', 'INVALID_ARGUMENT', 1],
      ]);
    } finally {
      await consumers.close();
      await stream.close();
    }
  });

  it("counts a file's bad values per column, with the first one as the sample, rejected or quarantined", async () => {
    const loader = createFileLoader({
      offline: s.offline,
      online: s.online,
      catalog: s.registry,
      quality: s.quality,
    });
    const path = join(s.dir, 'bad.csv');
    writeFileSync(
      path,
      'user_id,amount,country,ts\n7,1.5,US,2024-05-01T00:00:00Z\n8,x,US,2024-05-01T00:00:00Z\n9,y,US,soon\n10,2,US,\n',
    );
    const file = { path, name: 'bad.csv', format: 'csv' as const };
    expect((await loader.load('activity', file, 'reject')).rejectedWhole).toBe(true);
    expect((await loader.load('activity', file, 'quarantine')).accepted).toBe(1);
    await s.quality.flush();
    const rows = await violationRows(s.state);
    expect(rows.map((r) => [r.field, r.count])).toEqual([
      ['amount', 4],
      ['ts', 4],
    ]);
    expect(rows[0]!.sample).toBe('row 2, amount: is not float64: send a finite number');
    expect(rows[1]!.sample).toMatch(/^row 3, ts: is not timestamp/);
  });

  it('counts an unreadable file under the field its error names', async () => {
    const loader = createFileLoader({
      offline: s.offline,
      online: s.online,
      catalog: s.registry,
      quality: s.quality,
    });
    const path = join(s.dir, 'garbage.parquet');
    writeFileSync(path, 'not parquet at all');
    await expect(
      loader.load('activity', { path, name: 'garbage.parquet', format: 'parquet' }, 'reject'),
    ).rejects.toThrow();
    await s.quality.flush();
    expect((await violationRows(s.state)).map((r) => [r.field, r.code, r.count])).toEqual([
      ['file', 'INVALID_ARGUMENT', 1],
    ]);
  });
});
