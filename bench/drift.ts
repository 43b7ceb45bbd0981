/**
 * Windowed drift at scale (issue 6): a window of ROWS prediction-log rows x 50 numeric features
 * (seeded normals, every fifth feature shifted by half its standard deviation) against a baseline
 * PUT through the baseline service from a 100k-row reference (sample 100k). Meridian's extract and
 * compare are timed; then SciPy (bench/peers/drift_scipy.py, /usr/bin/python3) scores the same
 * window values against the same baseline sample feature by feature, as an Evidently-style monitor
 * does, timing its load and its computation separately. The table says whether every per-feature
 * verdict and score (within 1e-6) agrees.
 * Run with `npm run bench:drift`; BENCH_ROWS sets the window rows (default 1,000,000).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { silentLogger } from '../src/core/logger.js';
import { BASELINE_MIGRATIONS } from '../src/monitoring/baseline/migrations.js';
import { sqlString } from '../src/monitoring/baseline/reference.js';
import { createBaselineService } from '../src/monitoring/baseline/service.js';
import { compareWindow, type PhaseTimes } from '../src/monitoring/drift/window-compare.js';
import { countWindowRows, extractWindow } from '../src/monitoring/drift/window-extract.js';
import { sampleValues } from '../src/monitoring/drift/window-values.js';
import { MODEL_REGISTRY_MIGRATIONS } from '../src/serving/migrations.js';
import { PREDICTIONS_SCHEMA, PREDICTIONS_TABLE } from '../src/serving/prediction-log-event.js';
import { createArtifactStore } from '../src/stores/artifact/index.js';
import { createOfflineStore } from '../src/stores/offline/index.js';
import type { OfflineStore } from '../src/stores/offline/port.js';
import { createStateStore } from '../src/stores/state/index.js';
import { tempStoreDir } from '../test/helpers/servers.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const REFERENCE_ROWS = 100_000;
const FEATURES = Array.from({ length: 50 }, (_, j) => `f${j}`);
const SHIFTED = new Set(FEATURES.filter((_, j) => j % 5 === 0));
const MODEL = 'bench';
const FROM = new Date('2026-01-01T00:00:00Z');
const TO = new Date('2026-01-02T00:00:00Z');
const TOLERANCE = 1e-6;

/**
 * A seeded standard normal per (row i, feature j): Box–Muller over DuckDB's hash of one integer
 * made of (i, j, seed). `hash(i, j, seed)` of three arguments is not used: its two uniforms came out
 * correlated (the normals' mean was -0.04 over 100k rows).
 */
function normal(j: number, seed: number): string {
  const u = (s: number) => `((hash((i * 64 + ${j}) * 8 + ${s}) >> 11)::DOUBLE + 0.5) / 9007199254740992`;
  return `sqrt(-2 * ln(${u(seed)})) * cos(2 * pi() * ${u(seed + 1)})`;
}

/** Feature j has mean j and standard deviation 1 + j/10; a shifted one moves by half of that. */
function featureSql(j: number, seed: number, shift: boolean): string {
  const sd = 1 + j / 10;
  const mean = j + (shift ? sd / 2 : 0);
  return `${mean} + ${sd} * ${normal(j, seed)} AS f${j}`;
}

function wideSelect(rows: number, seed: number, shifted: ReadonlySet<string>): string {
  const columns = FEATURES.map((f, j) => featureSql(j, seed, shifted.has(f)));
  return `SELECT i, ${columns.join(', ')} FROM range(${rows}) r(i)`;
}

async function setUp(dir: string) {
  const ctx = { dataDir: dir, logger: silentLogger };
  const offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  const state = await createStateStore(`pglite:${join(dir, 'state')}`, ctx);
  const artifact = await createArtifactStore(`file:${join(dir, 'artifacts')}`, ctx);
  await state.migrate([...MODEL_REGISTRY_MIGRATIONS, ...BASELINE_MIGRATIONS]);
  await state.query(`INSERT INTO models (name, last_version) VALUES ($1, 1)`, [MODEL]);
  await state.query(
    `INSERT INTO model_versions (name, version, format, artifact_path, sha256, size, signature, stage, created_by)
     VALUES ($1, 1, 'onnx', 'none', 'none', 0, '{}', 'production', 'bench')`,
    [MODEL],
  );
  return { offline, state, artifact };
}

/** Writes each column as raw little-endian float64, the peer's input. */
function writeColumns(dir: string, columns: ReadonlyMap<string, Float64Array>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, values] of columns) {
    writeFileSync(
      join(dir, `${name}.f64`),
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    );
  }
}

/** The window as prediction-log rows (one per predicted row, features as the sink stores them). */
async function logWindow(offline: OfflineStore, dir: string): Promise<void> {
  await offline.query(`CREATE TABLE bench_window AS ${wideSelect(ROWS, 3, SHIFTED)}`);
  const read = await offline.queryColumns(`SELECT ${FEATURES.join(', ')} FROM bench_window`);
  writeColumns(join(dir, 'window'), new Map(FEATURES.map((f) => [f, read[f] as Float64Array])));
  await offline.ensureTable(PREDICTIONS_TABLE, PREDICTIONS_SCHEMA);
  const names = sqlString(JSON.stringify(FEATURES));
  await offline.query(
    `INSERT INTO ${PREDICTIONS_TABLE} SELECT 'r' || i, 0, ${sqlString(MODEL)}, 1, 'v2',
       TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (i * 10) MILLISECOND, NULL, ${names}::JSON,
       [${FEATURES.join(', ')}]::DOUBLE[], '{"prediction": 0}'::JSON, 1.0 FROM bench_window`,
  );
  await offline.query('DROP TABLE bench_window');
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  const dir = tempStoreDir('bench-drift');
  const { offline, state, artifact } = await setUp(dir);
  try {
    let t = performance.now();
    const referencePath = join(dir, 'reference.parquet');
    await offline.query(
      `COPY (${wideSelect(REFERENCE_ROWS, 1, new Set())}) TO ${sqlString(referencePath)} (FORMAT parquet)`,
    );
    const baselines = createBaselineService({ state, artifact, logger: silentLogger, tmpDir: dir });
    const profile = await baselines.put(
      MODEL,
      1,
      { path: referencePath, name: 'reference.parquet' },
      { features: FEATURES, sampleSize: REFERENCE_ROWS },
    );
    const samplePath = join(dir, 'sample.parquet');
    await pipeline(await artifact.get(profile.sample.path), createWriteStream(samplePath));
    const sample = await sampleValues(offline, samplePath, FEATURES, profile.sample.counts);
    writeColumns(join(dir, 'reference'), sample);
    await logWindow(offline, dir);
    console.log(`setup (reference, baseline, ${ROWS} logged rows): ${seconds(performance.now() - t)} s`);

    t = performance.now();
    const spec = { model: MODEL, version: 1, from: FROM, to: TO, features: FEATURES };
    const rows = await countWindowRows(offline, spec);
    const window = await extractWindow(offline, spec, rows);
    const extractMs = performance.now() - t;
    t = performance.now();
    const phases: PhaseTimes = { plan: 0, read: 0, sort: 0, aggregates: 0, sample: 0, statistics: 0 };
    const compared = await compareWindow(offline, window, profile, async () => samplePath, {}, phases);
    const compareMs = performance.now() - t;
    await window.drop();

    const peer = JSON.parse(
      execFileSync(
        '/usr/bin/python3',
        [join(import.meta.dirname, 'peers', 'drift_scipy.py'), dir, FEATURES.join(',')],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        },
      ),
    ) as {
      load_s: number;
      compute_s: number;
      scores: Record<string, number>;
      drifted: Record<string, boolean>;
    };

    const disagreements = FEATURES.filter((f) => {
      const ours = compared.columns[f];
      const theirs = peer.scores[f] ?? Number.NaN;
      return (
        !ours ||
        ours.drifted !== peer.drifted[f] ||
        !(Math.abs(ours.score - theirs) <= TOLERANCE * Math.max(1, Math.abs(theirs)))
      );
    });
    const drifted = FEATURES.filter((f) => compared.columns[f]?.drifted);
    const meridianMs = extractMs + compareMs;
    const scipyMs = peer.compute_s * 1000;
    console.log(
      `window: ${rows} rows x ${FEATURES.length} features; ${cpus().length} cores, load ${loadavg()[0]?.toFixed(2)}`,
    );
    console.table([
      {
        side: 'Meridian (extract + compare)',
        'total s': seconds(meridianMs),
        'parts s': [
          `extract ${seconds(extractMs)}`,
          `read ${seconds(phases.read)}`,
          `sort ${seconds(phases.sort)}`,
          `sample ${seconds(phases.sample)}`,
          `statistics ${seconds(phases.statistics)}`,
          `other ${seconds(compareMs - phases.read - phases.sort - phases.sample - phases.statistics)}`,
        ].join(', '),
      },
      {
        side: 'SciPy per feature',
        'total s': seconds(scipyMs + peer.load_s * 1000),
        'parts s': `load ${peer.load_s.toFixed(2)}, compute ${peer.compute_s.toFixed(2)}`,
      },
    ]);
    console.log(
      `SciPy compute / Meridian total: ${(scipyMs / meridianMs).toFixed(2)}x (goal: Meridian under 5 s and >= 10x faster)`,
    );
    console.log(`methods: ${[...new Set(Object.values(compared.columns).map((c) => c.method))].join(', ')}`);
    console.log(`drifted: ${drifted.join(', ')} (shifted: ${[...SHIFTED].join(', ')})`);
    console.log(
      disagreements.length === 0
        ? `every per-feature verdict agrees, scores within ${TOLERANCE}`
        : `DISAGREE on ${disagreements.map((f) => `${f} (${compared.columns[f]?.score} vs ${peer.scores[f]})`).join(', ')}`,
    );
    if (disagreements.length > 0) process.exitCode = 1;
  } finally {
    await offline.close();
    await state.close();
    await artifact.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
