/**
 * One writer per source and offline store at a time, shared by push batches and file loads. Each
 * checks which event ids are stored and then appends; two writers interleaving those steps could
 * both miss the other's copy of an event and store it twice.
 */
const held = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Runs `work` once every earlier writer of this source on this offline store has finished. */
export function withSourceLock<T>(offline: object, source: string, work: () => Promise<T>): Promise<T> {
  let bySource = held.get(offline);
  if (!bySource) {
    bySource = new Map();
    held.set(offline, bySource);
  }
  const previous = bySource.get(source) ?? Promise.resolve();
  const run = previous.then(work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  bySource.set(source, settled);
  // Forget the source once nobody is queued behind this writer, so the map does not grow forever.
  void settled.then(() => {
    if (bySource.get(source) === settled) bySource.delete(source);
  });
  return run;
}
