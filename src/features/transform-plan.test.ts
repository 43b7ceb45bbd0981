import { describe, expect, it } from 'vitest';
import { MeridianError } from '../core/errors.js';
import { emptyState, planApply, type RegistryState } from './plan.js';

const ROWS = '(rows) => rows.map((r) => ({ user_id: r.user_id, x: r.amount, ts: r.ts }))';

function project(view: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
  return {
    entities: [{ name: 'user', joinKeys: ['user_id'] }],
    sources: [
      {
        name: 'activity',
        kind: 'stream',
        timestampField: 'ts',
        schema: { user_id: 'int64', amount: 'float64', ts: 'timestamp' },
      },
    ],
    featureViews: [
      { name: 'v', entities: ['user'], source: 'activity', features: { x: 'float64' }, ...view },
      ...extra,
    ],
  };
}

function invalid(fn: () => unknown): MeridianError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeridianError);
    expect((err as MeridianError).code).toBe('INVALID_ARGUMENT');
    return err as MeridianError;
  }
  throw new Error('expected INVALID_ARGUMENT, but the definitions were accepted');
}

function stateAfter(input: unknown): RegistryState {
  const { definitions, versions } = planApply(emptyState(), input);
  return {
    ...emptyState(),
    entities: new Map(definitions.entities.map((e) => [e.name, e])),
    sources: new Map(definitions.sources.map((s) => [s.name, s])),
    views: new Map(
      definitions.featureViews.map((v) => [
        v.name,
        { definition: v, transformVersion: versions.get(v.name)! },
      ]),
    ),
    latestVersions: new Map(versions),
  };
}

describe('TypeScript transforms in definitions', () => {
  it('rejects a view with both sql and transform, naming the transform field', () => {
    const err = invalid(() =>
      planApply(emptyState(), project({ sql: 'SELECT * FROM {{source}}', transform: ROWS })),
    );
    expect(err.details.field).toBe('featureViews[0].transform');
    expect(err.message).toContain('not both');
  });

  it('rejects text that is not a function, saying a transform must be self-contained', () => {
    const err = invalid(() => planApply(emptyState(), project({ transform: '(rows) => {' })));
    expect(err.details.field).toBe('featureViews[0].transform');
    expect(err.message).toContain('self-contained');
  });

  it('accepts a method as fn.toString() gives it, without checking features against the source', () => {
    const { definitions } = planApply(
      emptyState(),
      project({ features: { y: 'bool' }, transform: 'transform(rows) { return rows; }' }),
    );
    expect(definitions.featureViews[0]!.transform).toBe('transform(rows) { return rows; }');
  });

  it('gives a changed transform text a new transform version and keeps it for the same text', () => {
    const before = stateAfter(project({ transform: ROWS }));
    expect(planApply(before, project({ transform: ROWS })).versions.get('v')).toBe(1);
    const changed = planApply(before, project({ transform: ROWS.replace('r.amount', 'r.amount * 2') }));
    expect(changed.versions.get('v')).toBe(2);
    expect(changed.plan.featureViews.transformVersions).toEqual({ v: 2 });
  });

  it('requires every upstream view of a projection to have each projected feature', () => {
    const err = invalid(() =>
      planApply(
        emptyState(),
        project({ transform: ROWS }, [
          { name: 'w', entities: ['user'], source: 'activity', features: { amount: 'float64' } },
          { name: 'both', entities: ['user'], views: ['v', 'w'], features: { x: 'float64' } },
        ]),
      ),
    );
    expect(err.message).toContain('views "w" has no field "x"');
  });
});
