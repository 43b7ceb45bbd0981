#!/usr/bin/env node
// Runs the built CLI; in a source checkout without a build it runs the TypeScript through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  const { run } = await import(built.href);
  await run(process.argv);
} else {
  try {
    await import('tsx/esm');
  } catch {
    process.stderr.write('meridian: not built and tsx is not installed; run `npm install` (it builds) or `npm run build`\n');
    process.exit(1);
  }
  const { run } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
  await run(process.argv);
}
