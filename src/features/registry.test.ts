import { describe, expect, it } from 'vitest';
import { MeridianError } from '../core/errors.js';
import type { Definitions } from './definitions.js';
import { canonical, emptyState, planApply, type RegistryState } from './plan.js';

/** A small valid project, as JSON; tests change a copy. */
function project() {
  return {
    entities: [{ name: 'user', joinKeys: ['user_id'] }],
    sources: [
      {
        name: 'activity',
        kind: 'stream',
        timestampField: 'ts',
        schema: { user_id: 'int64', amount: 'float64', country: 'string', ts: 'timestamp' },
      },
    ],
    featureViews: [
      {
        name: 'user_activity',
        entities: ['user'],
        source: 'activity',
        ttl: '30d',
        features: { amount: 'float64', country: 'string' },
      } as Record<string, unknown>,
    ],
    featureServices: [{ name: 'churn', features: ['user_activity:amount'] }],
  };
}

/** The registry state after applying `input` to an empty registry. */
function applied(input: unknown): RegistryState {
  const { definitions, versions } = planApply(emptyState(), input);
  return stateFrom(definitions, versions);
}

function stateFrom(defs: Definitions, versions: ReadonlyMap<string, number>): RegistryState {
  return {
    entities: new Map(defs.entities.map((e) => [e.name, e])),
    sources: new Map(defs.sources.map((s) => [s.name, s])),
    views: new Map(
      defs.featureViews.map((v) => [v.name, { definition: v, transformVersion: versions.get(v.name)! }]),
    ),
    services: new Map(defs.featureServices.map((s) => [s.name, s])),
    latestVersions: new Map(versions),
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

describe('planApply', () => {
  it('plans every object of a new project as added, each view at transform version 1', () => {
    const { plan } = planApply(emptyState(), project());
    expect(plan.entities).toEqual({ added: ['user'], changed: [], removed: [] });
    expect(plan.sources.added).toEqual(['activity']);
    expect(plan.featureViews).toEqual({
      added: ['user_activity'],
      changed: [],
      removed: [],
      transformVersions: { user_activity: 1 },
    });
    expect(plan.featureServices.added).toEqual(['churn']);
  });

  it('plans no change when the same definitions are applied again', () => {
    const { plan } = planApply(applied(project()), project());
    for (const kind of [plan.entities, plan.sources, plan.featureViews, plan.featureServices]) {
      expect([...kind.added, ...kind.changed, ...kind.removed]).toEqual([]);
    }
    expect(plan.featureViews.transformVersions).toEqual({});
  });

  it('gives a view whose transform changed the next transform version', () => {
    const next = project();
    next.featureViews[0]!.features = { amount: 'float64' };
    const { plan, versions } = planApply(applied(project()), next);
    expect(plan.featureViews.changed).toEqual(['user_activity']);
    expect(plan.featureViews.transformVersions).toEqual({ user_activity: 2 });
    expect(versions.get('user_activity')).toBe(2);
  });

  it('keeps the transform version when only the ttl or description changes', () => {
    const next = project();
    next.featureViews[0]!.ttl = '7d';
    next.featureViews[0]!.description = 'last activity';
    const { plan, versions } = planApply(applied(project()), next);
    expect(plan.featureViews.changed).toEqual(['user_activity']);
    expect(plan.featureViews.transformVersions).toEqual({});
    expect(versions.get('user_activity')).toBe(1);
  });

  it('continues the version history of a view that is removed and defined again', () => {
    const state = { ...applied(project()), latestVersions: new Map([['user_activity', 4]]) };
    const { plan } = planApply({ ...state, views: new Map() }, project());
    expect(plan.featureViews.transformVersions).toEqual({ user_activity: 5 });
  });

  it('removes registered objects the definitions no longer contain', () => {
    const next = project();
    next.featureServices = [];
    const { plan } = planApply(applied(project()), next);
    expect(plan.featureServices.removed).toEqual(['churn']);
  });

  it('does not count a different key order as a change', () => {
    expect(canonical({ a: 1, b: { c: 2, d: 3 } })).toBe(canonical({ b: { d: 3, c: 2 }, a: 1 }));
  });
});

describe('validation', () => {
  it('names the path of a field the schema rejects', () => {
    const bad = project();
    bad.featureViews[0]!.features = { amount: 'double' };
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('featureViews[0].features.amount');
    expect(err.message).toMatch(/^featureViews\[0\]\.features\.amount: /);
  });

  it('names an unknown field', () => {
    const bad = { ...project(), entities: [{ name: 'user', joinKeys: ['user_id'], joinkey: 'x' }] };
    expect(invalid(() => planApply(emptyState(), bad)).details.field).toBe('entities[0].joinkey');
  });

  it('rejects a body that is not an object, naming the body', () => {
    expect(invalid(() => planApply(emptyState(), [1, 2])).details.field).toBe('body');
  });

  it('rejects a name defined twice, naming both places', () => {
    const bad = project();
    bad.entities.push({ name: 'user', joinKeys: ['user_id'] });
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('entities[1].name');
    expect(err.message).toContain('entities[0]');
  });

  it('names a reference to an entity that is not defined', () => {
    const bad = project();
    bad.featureViews[0]!.entities = ['account'];
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('featureViews[0].entities[0]');
    expect(err.message).toContain('no entity "account"');
  });

  it('refuses to remove an object a kept object still uses, naming both', () => {
    const next = project();
    next.sources = [];
    const err = invalid(() => planApply(applied(project()), next));
    expect(err.details.field).toBe('featureViews[0].source');
    expect(err.message).toContain('cannot remove source "activity"');
    expect(err.message).toContain('feature view "user_activity"');
  });

  it('rejects a cycle among views, naming it', () => {
    const bad = project();
    const derived = (name: string, upstream: string) => ({
      name,
      entities: ['user'],
      views: [upstream],
      features: { amount: 'float64' },
      sql: `SELECT * FROM {{${upstream}}}`,
    });
    bad.featureViews.push(derived('a', 'b'), derived('b', 'a'));
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.message).toContain('a -> b -> a');
    expect(err.details.field).toBe('featureViews[1].views');
  });

  it('orders views upstream first whatever order they are declared in', () => {
    const p = project();
    p.featureViews.unshift({
      name: 'spend',
      entities: ['user'],
      views: ['user_activity'],
      features: { amount: 'float64' },
    });
    const { definitions } = planApply(emptyState(), p);
    expect(definitions.featureViews.map((v) => v.name)).toEqual(['user_activity', 'spend']);
  });

  it('rejects a projected field the source does not have', () => {
    const bad = project();
    bad.featureViews[0]!.features = { amount: 'float64', referrer: 'string' };
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('featureViews[0].features.referrer');
    expect(err.message).toContain('source "activity" has no field "referrer"');
  });

  it('rejects a projected field declared with another type than the source has', () => {
    const bad = project();
    bad.featureViews[0]!.features = { amount: 'int64' };
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('featureViews[0].features.amount');
    expect(err.message).toContain('is float64 in source "activity", not int64');
  });

  it('accepts any output fields for a view with sql', () => {
    const p = project();
    p.featureViews[0] = {
      ...p.featureViews[0],
      features: { big: 'bool' },
      sql: 'SELECT amount > 9 AS big FROM {{source}}',
    };
    p.featureServices[0]!.features = ['user_activity:big'];
    expect(planApply(emptyState(), p).plan.featureViews.added).toEqual(['user_activity']);
  });

  it('rejects a join key the source lacks', () => {
    const bad = project();
    bad.entities[0]!.joinKeys = ['account_id'];
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('featureViews[0].entities[0]');
    expect(err.message).toContain(
      'join key "account_id" of entity "user" is not a field of source "activity"',
    );
  });

  it('rejects an unknown sql placeholder', () => {
    const bad = project();
    bad.featureViews[0]!.sql = 'SELECT * FROM {{activty}}';
    expect(invalid(() => planApply(emptyState(), bad)).details.field).toBe('featureViews[0].sql');
  });

  it('rejects a service feature the view does not have', () => {
    const bad = project();
    bad.featureServices[0]!.features = ['user_activity:*', 'user_activity:spend'];
    const err = invalid(() => planApply(emptyState(), bad));
    expect(err.details.field).toBe('featureServices[0].features[1]');
    expect(err.message).toContain('no feature "spend"');
  });
});
