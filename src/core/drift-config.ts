/**
 * The `monitoring.drift` section of the config (e.g. MERIDIAN_MONITORING_DRIFT_PERIOD_MS): the
 * scheduled window drift. Its own file because the drift job also uses its defaults for on-demand runs.
 */
import { z } from 'zod';
import { booleanFlag } from './boolean-flag.js';

/** Windows with fewer rows than this are insufficient data. */
export const DEFAULT_MIN_WINDOW_ROWS = 100;
/** The default window, and the default period of the scheduled job: one hour. */
export const DEFAULT_WINDOW_MS = 3_600_000;

export const windowDriftConfigSchema = z
  .object({
    /** Run the scheduled job at all (the on-demand route works either way). */
    enabled: booleanFlag.default(true),
    /** How often, and over how long a window, every production version with a baseline is compared. */
    periodMs: z.coerce.number().int().min(60_000).default(DEFAULT_WINDOW_MS),
    /** Windows with fewer rows are reported as insufficient_data. */
    minRows: z.coerce.number().int().min(1).default(DEFAULT_MIN_WINDOW_ROWS),
  })
  .prefault({});

export type WindowDriftConfig = z.infer<typeof windowDriftConfigSchema>;

/** The settings with every default filled in. */
export const DEFAULT_WINDOW_DRIFT_CONFIG: WindowDriftConfig = windowDriftConfigSchema.parse(undefined);
