import { describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW_DRIFT_CONFIG, windowDriftConfigSchema } from './drift-config.js';

describe('the window drift settings', () => {
  it('default to an hourly job over windows of at least 100 rows', () => {
    expect(DEFAULT_WINDOW_DRIFT_CONFIG).toEqual({ enabled: true, periodMs: 3_600_000, minRows: 100 });
  });

  it('read environment strings, "false" included', () => {
    expect(windowDriftConfigSchema.parse({ enabled: 'false', periodMs: '120000', minRows: '10' })).toEqual({
      enabled: false,
      periodMs: 120_000,
      minRows: 10,
    });
  });

  it('refuse a period shorter than a minute', () => {
    expect(() => windowDriftConfigSchema.parse({ periodMs: 1000 })).toThrow(/periodMs/);
  });
});
