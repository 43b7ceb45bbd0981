/**
 * The one migration runner for both state stores. Each migration runs in its own transaction together
 * with its bookkeeping row, under a transaction-scoped advisory lock, so two processes migrating the
 * same PostgreSQL database at once apply every version exactly once (the second waits, then skips).
 */
import { createHash } from 'node:crypto';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { MigrateResult, Migration, SqlExecutor, StateStore } from './port.js';

/** A fixed key for pg_advisory_xact_lock: "meridian" in ASCII, so it is recognisable in pg_locks. */
const LOCK_KEY = '7882832519763681646';

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS meridian_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

interface AppliedRow {
  version: number;
  checksum: string;
}

/** sha256 of the migration text: any change to an applied migration is detected. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Throws INVALID_ARGUMENT unless migrations is a list with strictly increasing positive integer versions. */
export function checkMigrations(migrations: unknown): asserts migrations is readonly Migration[] {
  if (!Array.isArray(migrations)) {
    throw invalidArgument('migrations', 'must be an array', 'pass [{ version, name, sql }, ...]');
  }
  let previous = 0;
  migrations.forEach((m: Partial<Migration> | null, i) => {
    const at = `migrations[${i}]`;
    if (typeof m !== 'object' || m === null) throw invalidArgument(at, 'must be { version, name, sql }');
    if (
      !Number.isSafeInteger(m.version) ||
      (m.version as number) < 1 ||
      (m.version as number) > 2 ** 31 - 1
    ) {
      throw invalidArgument(
        `${at}.version`,
        `${String(m.version)} is not a positive integer`,
        'number migrations 1, 2, 3, ...',
      );
    }
    if ((m.version as number) <= previous) {
      throw invalidArgument(
        `${at}.version`,
        `${m.version} does not follow ${previous}`,
        'versions must be strictly increasing; append new migrations with a higher version',
      );
    }
    if (typeof m.name !== 'string' || m.name.trim() === '')
      throw invalidArgument(`${at}.name`, 'must be a non-empty string');
    if (typeof m.sql !== 'string' || m.sql.trim() === '')
      throw invalidArgument(`${at}.sql`, 'must be a non-empty SQL string');
    previous = m.version as number;
  });
}

async function lock(tx: SqlExecutor): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
}

async function appliedRows(tx: SqlExecutor): Promise<Map<number, string>> {
  const { rows } = await tx.query<AppliedRow>(
    'SELECT version, checksum FROM meridian_migrations ORDER BY version',
  );
  return new Map(rows.map((r) => [Number(r.version), r.checksum]));
}

function changedError(m: Migration): MeridianError {
  return new MeridianError(
    'FAILED_PRECONDITION',
    `migration ${m.version} (${m.name}) was already applied with different SQL; ` +
      'never edit an applied migration: restore its text and add a new migration with a higher version',
    { field: `migrations.${m.version}`, version: m.version },
  );
}

/**
 * Each service numbers its migrations in its own block of 100 (the foundation 1-99, the feature store
 * 100-199, serving 200-299, ...), and services start in any order on a shared database, so order is
 * enforced only within a block.
 */
const blockOf = (version: number): number => Math.floor(version / 100);

function outOfOrderError(m: Migration, latest: number): MeridianError {
  return new MeridianError(
    'FAILED_PRECONDITION',
    `migration ${m.version} (${m.name}) is not applied but the later migration ${latest} is; ` +
      `give new migrations versions above ${latest}`,
    { field: `migrations.${m.version}`, version: m.version },
  );
}

/**
 * Applies the migrations not yet applied, in order, each in its own locked transaction; an applied one
 * whose SQL changed is rejected. Returns what was applied and what was already in place.
 */
export async function applyMigrations(
  store: Pick<StateStore, 'transaction'>,
  migrations: readonly Migration[],
): Promise<MigrateResult> {
  checkMigrations(migrations);
  const result: MigrateResult = { applied: [], skipped: [] };
  const known = await store.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(CREATE_TABLE);
    return appliedRows(tx);
  });
  for (const m of migrations) {
    const checksum = migrationChecksum(m.sql);
    const before = known.get(m.version);
    if (before !== undefined) {
      if (before !== checksum) throw changedError(m);
      result.skipped.push(m.version);
      continue;
    }
    const applied = await store.transaction(async (tx) => {
      await lock(tx);
      // Re-read under the lock: another process may have applied it since we looked.
      const now = await appliedRows(tx);
      const existing = now.get(m.version);
      if (existing !== undefined) {
        if (existing !== checksum) throw changedError(m);
        return false;
      }
      const latest = Math.max(0, ...[...now.keys()].filter((v) => blockOf(v) === blockOf(m.version)));
      if (latest > m.version) throw outOfOrderError(m, latest);
      await tx.exec(m.sql);
      await tx.query('INSERT INTO meridian_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        checksum,
      ]);
      return true;
    });
    (applied ? result.applied : result.skipped).push(m.version);
  }
  return result;
}
