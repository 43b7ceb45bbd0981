/**
 * Alerts in the state store's `monitoring_alerts` table: the evaluator writes every lifecycle change,
 * the API reads them. Pending alerts are stored too, so a restart keeps counting their for-duration.
 */
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { SqlParam, StateStore } from '../../stores/state/port.js';
import type { Alert, AlertState } from './alert.js';
import { ALERT_MIGRATIONS } from './migrations.js';
import type { Severity } from './rule.js';

/** What `GET /v1/alerts?state=` filters by. */
export const ALERT_FILTERS = ['firing', 'resolved', 'pending', 'all'] as const;
export type AlertFilter = (typeof ALERT_FILTERS)[number];

interface AlertRow {
  id: string;
  fingerprint: string;
  rule: string;
  severity: Severity;
  state: AlertState;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  active_at: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
}

const COLUMNS =
  'id, fingerprint, rule, severity, state, labels, annotations, value, active_at, fired_at, resolved_at';

const toDate = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const toMs = (d: Date | null): number | null => (d === null ? null : new Date(d).getTime());

function alertFromRow(row: AlertRow): Alert {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    rule: row.rule,
    severity: row.severity,
    state: row.state,
    labels: row.labels,
    annotations: row.annotations,
    value: Number(row.value),
    activeAt: new Date(row.active_at).getTime(),
    firedAt: toMs(row.fired_at),
    resolvedAt: toMs(row.resolved_at),
  };
}

/** Throws INVALID_ARGUMENT naming `state` unless filter is one of ALERT_FILTERS. */
export function checkAlertFilter(filter: unknown): AlertFilter {
  if (filter === undefined) return 'all';
  if (!ALERT_FILTERS.includes(filter as AlertFilter)) {
    throw invalidArgument(
      'state',
      `${JSON.stringify(filter)} is not an alert state`,
      `use ${ALERT_FILTERS.join(', ')}`,
    );
  }
  return filter as AlertFilter;
}

/** Reads and writes alerts; one instance per state store. */
export class AlertStore {
  private constructor(private readonly state: StateStore) {}

  /** Applies the alert migrations (after any lower-numbered monitoring ones) and opens the store. */
  static async open(state: StateStore): Promise<AlertStore> {
    await state.migrate(ALERT_MIGRATIONS);
    return new AlertStore(state);
  }

  /** Opens on a state store whose alert migrations were already applied. */
  static onMigrated(state: StateStore): AlertStore {
    return new AlertStore(state);
  }

  /** Writes a new alert instance. */
  async insert(alert: Alert): Promise<void> {
    await this.state.query(
      `INSERT INTO monitoring_alerts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        alert.id,
        alert.fingerprint,
        alert.rule,
        alert.severity,
        alert.state,
        JSON.stringify(alert.labels),
        JSON.stringify(alert.annotations),
        alert.value,
        new Date(alert.activeAt),
        toDate(alert.firedAt),
        toDate(alert.resolvedAt),
      ] satisfies SqlParam[],
    );
  }

  /** Writes an alert's new state, value and lifecycle timestamps. */
  async update(alert: Alert): Promise<void> {
    await this.state.query(
      `UPDATE monitoring_alerts SET state = $2, value = $3, fired_at = $4, resolved_at = $5, updated_at = now()
        WHERE id = $1`,
      [alert.id, alert.state, alert.value, toDate(alert.firedAt), toDate(alert.resolvedAt)],
    );
  }

  /** Deletes a pending alert whose condition stopped holding before it fired: it never was an alert. */
  async discard(id: string): Promise<void> {
    await this.state.query(`DELETE FROM monitoring_alerts WHERE id = $1 AND state = 'pending'`, [id]);
  }

  /** Every pending and firing alert. */
  async active(): Promise<Alert[]> {
    const { rows } = await this.state.query<AlertRow>(
      `SELECT ${COLUMNS} FROM monitoring_alerts WHERE state IN ('pending', 'firing') ORDER BY active_at, id`,
    );
    return rows.map(alertFromRow);
  }

  /** Alerts in the given state, newest first, at most limit of them. */
  async list(filter: AlertFilter = 'all', limit = 1000): Promise<Alert[]> {
    const where = filter === 'all' ? '' : 'WHERE state = $2';
    const params: SqlParam[] = filter === 'all' ? [limit] : [limit, filter];
    const { rows } = await this.state.query<AlertRow>(
      `SELECT ${COLUMNS} FROM monitoring_alerts ${where} ORDER BY active_at DESC, id DESC LIMIT $1`,
      params,
    );
    return rows.map(alertFromRow);
  }

  /** One alert by id; NOT_FOUND when there is none. */
  async get(id: string): Promise<Alert> {
    const { rows } = await this.state.query<AlertRow>(
      `SELECT ${COLUMNS} FROM monitoring_alerts WHERE id = $1`,
      [id],
    );
    if (!rows[0]) {
      throw new MeridianError('NOT_FOUND', `alert ${id} does not exist; list alerts with GET /v1/alerts`, {
        field: 'id',
      });
    }
    return alertFromRow(rows[0]);
  }
}
