import { rmSync } from 'node:fs';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Platform } from '../../src/platform.js';
import { USER } from '../helpers/catalog.js';
import { type RunningServer, serverAvailable, startNats, tempStoreDir } from '../helpers/servers.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');
const event = (user: number, minutes: number, amount: number) => ({
  user_id: user,
  amount,
  ts: new Date(T0 + minutes * 60_000).toISOString(),
});

const definitions = (sources: string[]) => ({
  entities: [USER],
  sources: sources.map((name) => ({
    name,
    kind: 'stream',
    timestampField: 'ts',
    schema: { user_id: 'int64', amount: 'float64', ts: 'timestamp' },
  })),
  featureViews: sources.map((name) => ({
    name: `${name}_view`,
    entities: ['user'],
    source: name,
    features: { amount: 'float64' },
  })),
});

describe.runIf(serverAvailable('nats'))('a platform configured with NATS', { timeout: 120_000 }, () => {
  let nats: RunningServer;
  let platform: Platform;
  let dir: string;

  const apply = async (sources: string[]) => {
    const res = await fetch(`${platform.httpUrl}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(definitions(sources)),
    });
    expect(res.status).toBe(200);
  };
  const publishRaw = async (subject: string, events: unknown[]) => {
    const nc = await connect({ servers: nats.url });
    await jetstream(nc).publish(subject, JSON.stringify(events));
    await nc.close();
  };
  const onlineAmount = async (view: string, user: number): Promise<unknown> => {
    const res = await fetch(`${platform.httpUrl}/v1/features/online`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: [`${view}:amount`], entities: { user_id: [user] } }),
    });
    const body = (await res.json()) as { results: { values: unknown[] }[] };
    return body.results[1]?.values[0];
  };
  const eventually = async (read: () => Promise<unknown>, expected: unknown) => {
    const deadline = Date.now() + 20_000;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await read();
      if (last === expected) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(last).toBe(expected);
  };

  beforeAll(async () => {
    nats = await startNats();
    dir = tempStoreDir('nats-ingest');
    const config = loadConfig({
      cwd: dir,
      env: {},
      overrides: {
        target: 'features',
        dataDir: dir,
        eventStream: nats.url,
        http: { host: '127.0.0.1', port: 0 },
        grpc: { host: '127.0.0.1', port: 0 },
      },
    });
    platform = await Platform.start(config, { logger: silentLogger });
    await apply(['activity']);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests events a plain NATS publisher puts on meridian.events.{source}', async () => {
    await publishRaw('meridian.events.activity', [event(7, 1, 10), event(7, 2, 12.5)]);
    await eventually(() => onlineAmount('activity_view', 7), 12.5);
  });

  it('starts consuming a stream source as soon as it is applied', async () => {
    await apply(['activity', 'clicks']);
    await publishRaw('meridian.events.clicks', [event(8, 1, 3)]);
    await eventually(() => onlineAmount('clicks_view', 8), 3);
  });
});
