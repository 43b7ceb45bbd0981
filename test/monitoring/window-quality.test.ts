import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { BaselineProfile, ColumnProfile } from '../../src/monitoring/baseline/profile.js';
import { windowQuality } from '../../src/monitoring/quality/window-quality.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { tempStoreDir } from '../helpers/servers.js';

const base = { role: 'feature' as const, distinct: 10, distinctCapped: false };

function numeric(nullShare: number, min: number, max: number): ColumnProfile {
  return {
    ...base,
    type: 'numerical',
    sourceType: 'DOUBLE',
    nullShare,
    min,
    max,
    mean: null,
    std: null,
    quantiles: null,
    bins: null,
  } as ColumnProfile;
}

function categorical(values: string[], sourceType: string, otherCategories = 0): ColumnProfile {
  return {
    ...base,
    type: 'categorical',
    sourceType,
    nullShare: 0,
    categories: values.map((value) => ({ value, count: 1, share: 1 / values.length })),
    other: { categories: otherCategories, count: otherCategories, share: 0 },
  } as ColumnProfile;
}

function profile(columns: Record<string, ColumnProfile>): BaselineProfile {
  return { features: Object.keys(columns), columns } as unknown as BaselineProfile;
}

describe('window data quality against the baseline', () => {
  let dir: string;
  let offline: OfflineStore;
  const rows = 100;

  beforeAll(async () => {
    dir = tempStoreDir('window-quality');
    offline = await createOfflineStore('duckdb::memory:', { dataDir: dir, logger: silentLogger });
    // 100 rows: `amount` 0..99 with 3 nulls and 2 values above the baseline's max, `tier` integer
    // codes with 4 the baseline never saw, `flag` absent from 10 rows.
    await offline.query(`CREATE TABLE w AS
      SELECT 'amount' AS col, CASE WHEN i < 3 THEN NULL WHEN i >= 98 THEN 500.0 ELSE i::DOUBLE END AS v,
             NULL::VARCHAR AS s FROM range(100) t(i)
      UNION ALL SELECT 'tier', CASE WHEN i < 4 THEN 9.0 ELSE (i % 3)::DOUBLE END, NULL FROM range(100) t(i)
      UNION ALL SELECT 'flag', (i % 2)::DOUBLE, NULL FROM range(90) t(i)`);
  });
  afterAll(async () => {
    await offline.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures null share, out-of-range and unseen-category shares with the default rules', async () => {
    const quality = await windowQuality(
      offline,
      'w',
      profile({
        amount: numeric(0.01, 0, 100),
        tier: categorical(['0', '1', '2'], 'BIGINT'),
        flag: categorical(['true', 'false'], 'BOOLEAN'),
      }),
      rows,
    );
    expect(quality.amount!.nullShare).toEqual({ value: 0.03, baseline: 0.01, status: 'warning' });
    expect(quality.amount!.outOfRange).toEqual({ value: 2 / 97, baseline: null, status: 'warning' });
    expect(quality.amount!.status).toBe('warning');
    expect(quality.tier!.unseenCategories).toEqual({ value: 0.04, baseline: null, status: 'warning' });
    expect(quality.tier!.outOfRange).toBeNull();
    expect(quality.flag!.nullShare).toMatchObject({ value: 0.1, status: 'fail' });
    expect(quality.flag!.unseenCategories).toMatchObject({ value: 0, status: 'ok' });
    expect(quality.flag!.status).toBe('fail');
  });

  it('does not judge unseen categories when the baseline kept only its top categories', async () => {
    const quality = await windowQuality(
      offline,
      'w',
      profile({ tier: categorical(['0'], 'BIGINT', 5) }),
      rows,
    );
    expect(quality.tier!.unseenCategories).toBeNull();
    expect(quality.tier!.status).toBe('ok');
  });

  it('counts a feature the window never logged as all null', async () => {
    const quality = await windowQuality(offline, 'w', profile({ missing: numeric(0, 0, 1) }), rows);
    expect(quality.missing!.nullShare).toMatchObject({ value: 1, status: 'fail' });
  });
});
