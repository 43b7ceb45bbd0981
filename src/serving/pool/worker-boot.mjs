// Runs the TypeScript model worker when Meridian runs from its sources (tests, tsx): worker threads
// do not inherit the parent's TypeScript loader, so this thread registers tsx before importing it.
// The export is the worker's own promise of its handler, which piscina awaits.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

export default import(workerData.workerModule).then((worker) => worker.default);
