import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALERTS_CONFIG } from '../../src/core/alerts-config.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { AlertStore } from '../../src/monitoring/alerts/alert-store.js';
import { openAlerting } from '../../src/monitoring/alerts/alerting.js';
import { AlertEvaluator, type MetricSample } from '../../src/monitoring/alerts/evaluator.js';
import type { AlertRule } from '../../src/monitoring/alerts/rule.js';
import { type RetryPolicy, WebhookNotifier } from '../../src/monitoring/alerts/webhook-notifier.js';
import type { WebhookPayload } from '../../src/monitoring/alerts/webhook-payload.js';
import { DATASET_DRIFT_SHARE } from '../../src/monitoring/metric-names.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { freePort, tempStoreDir } from '../helpers/servers.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A real HTTP receiver that records every POST; it can answer errors, or hang, for the first requests. */
class Receiver {
  readonly bodies: WebhookPayload[] = [];
  readonly answered: number[] = [];
  failFirst = 0;
  failStatus = 500;
  hangFirst = 0;
  private readonly hanging: ServerResponse[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    this.bodies.push(JSON.parse(text) as WebhookPayload);
    const n = this.bodies.length;
    if (n <= this.hangFirst) {
      this.hanging.push(res);
      return;
    }
    const status = n <= this.hangFirst + this.failFirst ? this.failStatus : 200;
    this.answered.push(status);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
  }
}

const rule: AlertRule = {
  name: 'DatasetDrift',
  metric: DATASET_DRIFT_SHARE,
  condition: '>=',
  threshold: 0.5,
  forMs: 5 * MINUTE,
  severity: 'warning',
  summary: 'half the features drifted',
};

const share = (value: number, time: number): MetricSample => ({
  metric: DATASET_DRIFT_SHARE,
  labels: { model: 'churn', version: '2' },
  value,
  time,
});

const FAST: Partial<RetryPolicy> = {
  maxAttempts: 4,
  initialBackoffMs: 20,
  maxBackoffMs: 100,
  timeoutMs: 2000,
};

async function counterValues(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [Object.values(v.labels).join(','), v.value]));
}

describe('alert webhooks against a real HTTP receiver', () => {
  let dir: string;
  let state: StateStore;
  let store: AlertStore;
  let receiver: Receiver;
  let registry: Registry;
  let clock: ManualClock;
  let notifier: WebhookNotifier | undefined;

  beforeAll(async () => {
    dir = tempStoreDir('alerts-webhook');
    state = await createStateStore(`pglite:${join(dir, 'state')}`, { dataDir: dir, logger: silentLogger });
    store = await AlertStore.open(state);
  });
  afterAll(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await state.exec('DELETE FROM monitoring_alerts');
    receiver = await new Receiver().start();
    registry = new Registry();
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    await notifier?.close();
    notifier = undefined;
    await receiver.stop();
  });

  const setup = async (urls = [receiver.url], retry = FAST) => {
    notifier = new WebhookNotifier({
      urls,
      registry,
      logger: silentLogger,
      retry,
      externalUrl: 'http://meridian.test:8700',
    });
    const evaluator = await AlertEvaluator.open({
      store,
      logger: silentLogger,
      clock,
      rules: [rule],
      notifier,
    });
    return { evaluator, notifier };
  };

  it('delivers one firing webhook in the Alertmanager format once the for-duration has passed', async () => {
    const { evaluator, notifier } = await setup();
    await evaluator.evaluate([share(0.6, clock.now())]);
    clock.advance(4 * MINUTE);
    await evaluator.evaluate([share(0.7, clock.now())]);
    await notifier.idle();
    expect(receiver.bodies).toEqual([]);
    clock.advance(MINUTE);
    const [fired] = await evaluator.evaluate([share(0.7, clock.now())]);
    for (let i = 0; i < 3; i++) {
      clock.advance(MINUTE);
      await evaluator.evaluate([share(0.8, clock.now())]);
    }
    await notifier.idle();
    expect(receiver.bodies).toHaveLength(1);
    const body = receiver.bodies[0]!;
    expect(body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'meridian',
      groupLabels: { alertname: 'DatasetDrift' },
      externalURL: 'http://meridian.test:8700',
    });
    expect(body.alerts).toEqual([
      {
        status: 'firing',
        labels: { alertname: 'DatasetDrift', severity: 'warning', model: 'churn', version: '2' },
        annotations: expect.objectContaining({ summary: 'half the features drifted' }),
        startsAt: new Date(T0 + 5 * MINUTE).toISOString(),
        endsAt: ZERO_TIME,
        generatorURL: `http://meridian.test:8700/v1/alerts/${fired!.alert.id}`,
        fingerprint: fired!.alert.fingerprint,
      },
    ]);
  });

  it('delivers the resolve after the firing, with endsAt set', async () => {
    const { evaluator, notifier } = await setup();
    await evaluator.evaluate([share(0.9, clock.now())]);
    clock.advance(5 * MINUTE);
    await evaluator.evaluate([]);
    clock.advance(MINUTE);
    await evaluator.evaluate([share(0.1, clock.now())]);
    await notifier.idle();
    expect(receiver.bodies.map((b) => b.status)).toEqual(['firing', 'resolved']);
    const [firing, resolved] = receiver.bodies.map((b) => b.alerts[0]!);
    expect(resolved!.fingerprint).toBe(firing!.fingerprint);
    expect(resolved!.startsAt).toBe(firing!.startsAt);
    expect(resolved!.endsAt).toBe(new Date(T0 + 6 * MINUTE).toISOString());
  });

  it('retries after 500 answers with backoff until delivered, counting every attempt', async () => {
    receiver.failFirst = 2;
    const { evaluator, notifier } = await setup();
    await evaluator.evaluate([share(0.9, clock.now())]);
    clock.advance(5 * MINUTE);
    await evaluator.evaluate([]);
    await notifier.idle();
    expect(receiver.answered).toEqual([500, 500, 200]);
    expect(receiver.bodies.every((b) => b.status === 'firing')).toBe(true);
    expect(await counterValues(registry, 'meridian_alert_webhook_attempts_total')).toEqual({
      http_error: 2,
      delivered: 1,
    });
    expect(await counterValues(registry, 'meridian_alert_webhook_deliveries_total')).toEqual({
      delivered: 1,
    });
  });

  it('gives up after the bounded number of attempts and counts the failure', async () => {
    receiver.failFirst = 100;
    const { evaluator, notifier } = await setup([receiver.url], { ...FAST, maxAttempts: 3 });
    await evaluator.evaluate([share(0.9, clock.now())]);
    clock.advance(5 * MINUTE);
    await evaluator.evaluate([]);
    await notifier.idle();
    expect(receiver.answered).toEqual([500, 500, 500]);
    expect(await counterValues(registry, 'meridian_alert_webhook_deliveries_total')).toEqual({ failed: 1 });
  });

  it('does not retry an answer that a retry cannot change (400)', async () => {
    receiver.failFirst = 100;
    receiver.failStatus = 400;
    const { evaluator, notifier } = await setup();
    await evaluator.evaluate([share(0.9, clock.now())]);
    clock.advance(5 * MINUTE);
    await evaluator.evaluate([]);
    await notifier.idle();
    expect(receiver.answered).toEqual([400]);
  });

  it('times out a receiver that does not answer and retries', async () => {
    receiver.hangFirst = 1;
    const { evaluator, notifier } = await setup([receiver.url], { ...FAST, timeoutMs: 300 });
    await evaluator.evaluate([share(0.9, clock.now())]);
    clock.advance(5 * MINUTE);
    await evaluator.evaluate([]);
    await notifier.idle();
    expect(receiver.bodies).toHaveLength(2);
    expect(receiver.answered).toEqual([200]);
    expect(await counterValues(registry, 'meridian_alert_webhook_attempts_total')).toEqual({
      timeout: 1,
      delivered: 1,
    });
  });

  it('never makes the evaluator wait for a receiver', async () => {
    receiver.hangFirst = 1;
    const { evaluator, notifier } = await setup([receiver.url], { ...FAST, timeoutMs: 1500 });
    await evaluator.evaluate([share(0.9, clock.now())]);
    clock.advance(5 * MINUTE);
    let delivered = false;
    const started = performance.now();
    const [fired] = await evaluator.evaluate([]);
    const idle = notifier.idle().then(() => (delivered = true));
    expect(fired?.to).toBe('firing');
    expect(delivered).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
    await idle;
    expect(receiver.answered).toEqual([200]);
  });

  it('delivers to every configured webhook and retries a refused connection', async () => {
    const other = await new Receiver().start();
    const nobody = `http://127.0.0.1:${await freePort()}/hook`;
    try {
      const { evaluator, notifier } = await setup([receiver.url, other.url, nobody], {
        ...FAST,
        maxAttempts: 2,
      });
      await evaluator.evaluate([share(0.9, clock.now())]);
      clock.advance(5 * MINUTE);
      await evaluator.evaluate([]);
      await notifier.idle();
      expect(receiver.bodies).toHaveLength(1);
      expect(other.bodies).toHaveLength(1);
      expect(await counterValues(registry, 'meridian_alert_webhook_attempts_total')).toEqual({
        delivered: 2,
        network_error: 2,
      });
      expect(await counterValues(registry, 'meridian_alert_webhook_deliveries_total')).toEqual({
        delivered: 2,
        failed: 1,
      });
    } finally {
      await other.stop();
    }
  });

  it('drops the oldest waiting delivery when a receiver falls behind a full queue, and counts it', async () => {
    receiver.hangFirst = 1;
    notifier = new WebhookNotifier({
      urls: [receiver.url],
      registry,
      logger: silentLogger,
      retry: { ...FAST, timeoutMs: 300 },
      queueLimit: 1,
    });
    const evaluator = await AlertEvaluator.open({
      store,
      logger: silentLogger,
      clock,
      rules: [{ ...rule, forMs: 0 }],
      notifier,
    });
    const model = (name: string) => ({ ...share(0.9, clock.now()), labels: { model: name, version: '1' } });
    await evaluator.evaluate([model('a')]);
    await new Promise((r) => setTimeout(r, 50));
    await evaluator.evaluate([model('b'), model('c')]);
    await notifier.idle();
    expect(receiver.bodies.map((b) => b.alerts[0]!.labels.model)).toEqual(['a', 'a', 'c']);
    expect(await counterValues(registry, 'meridian_alert_webhook_deliveries_total')).toEqual({
      delivered: 2,
      dropped: 1,
    });
  });

  it('assembled from config, fires a pending alert from the periodic sweep and delivers it', async () => {
    const alerting = await openAlerting({
      state,
      registry,
      logger: silentLogger,
      clock,
      rules: [rule],
      config: {
        webhooks: [receiver.url],
        evaluationIntervalMs: 1000,
        retry: { ...DEFAULT_ALERTS_CONFIG.retry, ...FAST },
      },
    });
    try {
      await alerting.evaluator.evaluate([share(0.9, clock.now())]);
      clock.advance(5 * MINUTE);
      const deadline = Date.now() + 5000;
      while (receiver.bodies.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await alerting.idle();
      expect(receiver.bodies.map((b) => b.status)).toEqual(['firing']);
      expect((await alerting.store.list('firing')).map((a) => a.firedAt)).toEqual([T0 + 5 * MINUTE]);
    } finally {
      await alerting.close();
    }
  });
});
