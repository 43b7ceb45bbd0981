import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempStoreDir } from '../../test/helpers/servers.js';
import { silentLogger } from '../core/logger.js';
import { createOfflineStore } from '../stores/offline/index.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from './prediction-log-event.js';
import { typeFeatures } from './prediction-sink.js';

const ROW = `('r1', 0, 'm', 1, 'v2', TIMESTAMP '2026-01-01 00:00:00', NULL, NULL, '[1.5, null]'::JSON, '{}'::JSON, 1.0)`;

describe('typeFeatures', () => {
  it('turns a JSON features column into DOUBLE[] in place, nulls kept', async () => {
    const dir = tempStoreDir('type-features');
    const offline = await createOfflineStore('duckdb::memory:', { dataDir: dir, logger: silentLogger });
    try {
      const schema = { ...PREDICTIONS_SCHEMA, features: 'json' as const };
      await offline.ensureTable(PREDICTIONS_TABLE, schema);
      await offline.query(`INSERT INTO ${PREDICTIONS_TABLE} VALUES ${ROW}`);
      await typeFeatures(offline);
      await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
      const stored = await offline.query<{ features: unknown }>(`SELECT features FROM ${PREDICTIONS_TABLE}`);
      expect(stored).toEqual([{ features: [1.5, null] }]);
      await typeFeatures(offline);
    } finally {
      await offline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
