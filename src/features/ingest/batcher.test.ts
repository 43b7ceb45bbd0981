import { describe, expect, it } from 'vitest';
import { MeridianError } from '../../core/errors.js';
import { Batcher } from './batcher.js';

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
});
