/**
 * Preloaded into a benchmarked server with `NODE_OPTIONS=--import <this file>` (Node refuses
 * `--cpu-prof` there): each SIGUSR2 toggles sampling of the main thread, and stopping writes a
 * `.cpuprofile` (open in Chrome DevTools) into `MERIDIAN_CPU_PROFILE_DIR`, so a bench profiles only
 * its measured window, not start-up and loading.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.MERIDIAN_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  let running = false;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.post('Profiler.start');
      running = true;
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const file = join(dir, `server-${process.pid}-${++count}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
