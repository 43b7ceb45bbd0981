import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { Batcher, type Handoff } from './batcher.js';

const options = { maxBatch: 10, maxDelayMs: 20, maxQueued: 25, label: 'test' };

function recording(delayMs = 0) {
  const batches: number[][] = [];
  const state = { active: 0, maxActive: 0 };
  const flush = async (items: number[]) => {
    batches.push(items);
    state.active++;
    state.maxActive = Math.max(state.maxActive, state.active);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    state.active--;
    return items.map((x) => x * 2);
  };
  return { batches, flush, state };
}

describe('Batcher', () => {
  it('merges concurrent adds into one batch and gives each caller its own results', async () => {
    const { batches, flush } = recording();
    const batcher = new Batcher(flush, options);
    const [a, b, c] = await Promise.all([batcher.add([1, 2]), batcher.add([3]), batcher.add([4, 5])]);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect([a, b, c]).toEqual([[2, 4], [6], [8, 10]]);
  });

  it('flushes at maxBatch without waiting for the timer, never splitting one add', async () => {
    const { batches, flush } = recording();
    const batcher = new Batcher(flush, { ...options, maxDelayMs: 60_000 });
    const started = Date.now();
    await Promise.all([batcher.add([1, 2, 3, 4, 5, 6]), batcher.add([7, 8, 9, 10, 11, 12])]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(batches).toEqual([
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 11, 12],
    ]);
  });

  it('runs one flush at a time, in arrival order', async () => {
    const { batches, flush, state } = recording(30);
    const batcher = new Batcher(flush, { ...options, maxBatch: 2 });
    await Promise.all([batcher.add([1, 2]), batcher.add([3, 4]), batcher.add([5]), batcher.add([6])]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(state.maxActive).toBe(1);
  });

  it('rejects every caller of a failed batch with its error', async () => {
    const boom = new MeridianError('STORE_UNAVAILABLE', 'down');
    const batcher = new Batcher<number, number>(async () => Promise.reject(boom), options);
    const results = await Promise.allSettled([batcher.add([1]), batcher.add([2])]);
    expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.value))).toEqual([boom, boom]);
  });

  it('refuses adds beyond the queue limit with RESOURCE_EXHAUSTED saying to retry', async () => {
    const { flush } = recording(30);
    const batcher = new Batcher(flush, options);
    const waiting = batcher.add(Array.from({ length: 20 }, (_, i) => i));
    let refused: unknown;
    try {
      batcher.add([1, 2, 3, 4, 5, 6]);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(MeridianError);
    expect((refused as MeridianError).code).toBe('RESOURCE_EXHAUSTED');
    expect((refused as MeridianError).message).toMatch(/retry/);
    await waiting;
    await expect(batcher.add([1, 2, 3, 4, 5, 6])).resolves.toHaveLength(6);
  });

  it('drain writes what waits without waiting for the timer', async () => {
    const { batches, flush } = recording();
    const batcher = new Batcher(flush, { ...options, maxDelayMs: 60_000 });
    const pending = batcher.add([7]);
    await batcher.drain();
    expect(batches).toEqual([[7]]);
    await expect(pending).resolves.toEqual([14]);
  });

  describe('with a two-stage flush', () => {
    /** A flush whose first stage is immediate and whose finish waits for `release(batch)`. */
    function staged() {
      const log: string[] = [];
      const gates = new Map<number, () => void>();
      let batch = 0;
      const flush = async (items: number[]): Promise<Handoff<number>> => {
        const n = batch++;
        log.push(`first ${n}`);
        return {
          finish: async () => {
            log.push(`finish ${n}`);
            await new Promise<void>((resolve) => gates.set(n, resolve));
            log.push(`done ${n}`);
            return items.map((x) => x * 2);
          },
        };
      };
      const release = async (n: number) => {
        while (!gates.has(n)) await new Promise((resolve) => setTimeout(resolve, 1));
        gates.get(n)!();
      };
      return { log, flush, release };
    }

    it("starts the next batch's first stage while the previous batch finishes, settling callers only when finished", async () => {
      const { log, flush, release } = staged();
      const batcher = new Batcher(flush, { ...options, maxBatch: 1 });
      let firstSettled = false;
      const first = batcher.add([1]).then((r) => {
        firstSettled = true;
        return r;
      });
      const second = batcher.add([2]);
      await release(0);
      await expect(first).resolves.toEqual([2]);
      await release(1);
      await expect(second).resolves.toEqual([4]);
      expect(firstSettled).toBe(true);
      expect(log.indexOf('first 1')).toBeLessThan(log.indexOf('done 0'));
    });

    it('runs finishes one at a time in batch order and keeps at most two batches in flight', async () => {
      const { log, flush, release } = staged();
      const batcher = new Batcher(flush, { ...options, maxBatch: 1 });
      const all = Promise.all([batcher.add([1]), batcher.add([2]), batcher.add([3])]);
      await release(0);
      await release(1);
      await release(2);
      await expect(all).resolves.toEqual([[2], [4], [6]]);
      expect(log).toEqual([
        'first 0',
        'finish 0',
        'first 1',
        'done 0',
        'finish 1',
        'first 2',
        'done 1',
        'finish 2',
        'done 2',
      ]);
    });

    it('rejects the callers of a batch whose finish fails, and goes on with the next batch', async () => {
      const boom = new MeridianError('STORE_UNAVAILABLE', 'online store down');
      let n = 0;
      const batcher = new Batcher<number, number>(
        async (items) => {
          const failing = n++ === 0;
          return { finish: async () => (failing ? Promise.reject(boom) : items) };
        },
        { ...options, maxBatch: 1 },
      );
      const results = await Promise.allSettled([batcher.add([1]), batcher.add([2])]);
      expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.value))).toEqual([boom, [2]]);
    });

    it('drain waits for the last finish', async () => {
      const { flush, release } = staged();
      const batcher = new Batcher(flush, { ...options, maxDelayMs: 60_000 });
      const pending = batcher.add([5]);
      let drained = false;
      const draining = batcher.drain().then(() => {
        drained = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(drained).toBe(false);
      await release(0);
      await draining;
      await expect(pending).resolves.toEqual([10]);
    });
  });
});
