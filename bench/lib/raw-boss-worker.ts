/**
 * A raw pg-boss worker process for bench/pipelines.ts: BENCH_CONCURRENCY loops of fetch one job,
 * complete it, fetch again at once (sleeping the polling interval only when the queue is empty),
 * the loop Meridian's job queue runs, without the orchestrator. pg-boss's own work() sleeps its
 * interval (at least 0.5 s) after every batch, which would cap it at 2 jobs/s per loop.
 * Usage: tsx raw-boss-worker.ts <postgres-url> <queue>; prints "ready", stops on SIGTERM.
 */
import PgBoss from 'pg-boss';

const [url, queue] = process.argv.slice(2) as [string, string];
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 1);
const intervalMs = Number(process.env.BENCH_POLL_MS ?? 500);

const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false, migrate: false });
boss.on('error', (err) => console.error(err));
await boss.start();
let stopping = false;

async function loop(): Promise<void> {
  while (!stopping) {
    const [job] = await boss.fetch(queue, { batchSize: 1 });
    if (job) await boss.complete(queue, job.id, { result: { completed: true } });
    else await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const loops = Array.from({ length: concurrency }, loop);
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  stopping = true;
  await Promise.all(loops);
  await boss.stop({ graceful: false, close: true });
  process.exit(0);
});
