/**
 * A fresh PGlite data directory takes seconds to initialise (initdb in WASM), so a suite initialises
 * one template in beforeAll and every test starts from a copy of it.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { tempStoreDir } from './servers.js';

export interface PgliteTemplate {
  /** The suite's temp directory; removed after the suite. */
  readonly root: string;
  /** A new copy of the template at `dest` (default: a new directory under root); returns its path. */
  freshDir(dest?: string): string;
}

/** Registers the hooks that build the template once with prepare(templateDir, root) and remove it after. */
export function pgliteTemplate(
  kind: string,
  prepare: (templateDir: string, root: string) => Promise<void>,
): PgliteTemplate {
  let root = '';
  let n = 0;
  beforeAll(async () => {
    root = tempStoreDir(kind);
    await prepare(join(root, 'template'), root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return {
    get root() {
      return root;
    },
    freshDir(dest = join(root, `db${++n}`)) {
      cpSync(join(root, 'template'), dest, { recursive: true });
      return dest;
    },
  };
}
