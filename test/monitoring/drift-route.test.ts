import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import { ERROR_SCHEMA } from '../../src/api/openapi/common.js';
import { MONITORING } from '../../src/api/openapi/monitoring.js';
import { registerDriftRoutes } from '../../src/api/routes/drift.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { DriftMethod, DriftReport } from '../../src/monitoring/drift/types.js';
import { expectPValue, expectStatistic, type FixtureNumber, fixtureCases } from './drift-fixtures.js';

interface ReportCase {
  name: string;
  reference: Record<string, unknown[]>;
  current: Record<string, unknown[]>;
  columns: Record<string, { method: DriftMethod; score: FixtureNumber; pValue: FixtureNumber | null }>;
}

describe('POST /v1/drift', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = createHttpServer({
      logger: silentLogger,
      metrics: createMetricsRegistry(false),
      stores: {},
      isAccepting: () => true,
    });
    registerDriftRoutes(app);
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/drift', payload: payload as object });

  async function expect400(payload: unknown, field: string, fix: RegExp): Promise<void> {
    const res = await post(payload);
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json() as { error: string; code: string; details: { field: string } };
    expect(body.code).toBe('INVALID_ARGUMENT');
    expect(body.details.field).toBe(field);
    expect(body.error.startsWith(`${field}: `), body.error).toBe(true);
    expect(body.error).toMatch(fix);
  }

  for (const c of fixtureCases<ReportCase>('report')) {
    it(`answers SciPy's numbers in the contract shape: ${c.name}`, async () => {
      const res = await post({ reference: c.reference, current: c.current });
      expect(res.statusCode, res.body).toBe(200);
      const report = res.json() as DriftReport;
      expect(Object.keys(report).sort()).toEqual(['columns', 'datasetDrift', 'driftShare', 'drifted']);
      const names = Object.keys(c.columns);
      expect(Object.keys(report.columns)).toEqual(names);
      const drifted = names.filter((n) => report.columns[n]!.drifted).length;
      expect(report.drifted).toBe(drifted);
      expect(report.driftShare).toBe(drifted / names.length);
      expect(report.datasetDrift).toBe(drifted / names.length >= 0.5);
      for (const [name, expected] of Object.entries(c.columns)) {
        const column = report.columns[name]!;
        expect(Object.keys(column).sort()).toEqual([
          'drifted',
          'method',
          'pValue',
          'score',
          'status',
          'threshold',
          'type',
        ]);
        expect(column.method).toBe(expected.method);
        expectStatistic(column.score, expected.score, `${name} score`);
        if (expected.pValue === null) {
          expect(column.pValue).toBeNull();
          expect(column.threshold).toBe(0.1);
          expect(column.drifted).toBe(column.score >= 0.1);
        } else {
          expectPValue(column.pValue, expected.pValue, `${name} p-value`);
          expect(column.threshold).toBe(0.05);
          expect(column.drifted).toBe((column.pValue as number) < 0.05);
        }
      }
    });
  }

  it('uses the types, methods and thresholds it is given', async () => {
    const res = await post({
      reference: { code: [1, 2, 3, 1, 2, 3], score: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] },
      current: { code: [1, 1, 1, 2, 2, 3], score: [0.4, 0.5, 0.6, 0.7, 0.8, 0.9] },
      columnTypes: { code: 'categorical' },
      methods: { score: 'wasserstein' },
      thresholds: { score: 2 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json() as DriftReport;
    expect(report.columns.code).toMatchObject({ type: 'categorical', method: 'chisquare', threshold: 0.05 });
    expect(report.columns.score).toMatchObject({
      type: 'numerical',
      method: 'wasserstein',
      threshold: 2,
      pValue: null,
    });
    expect(report.columns.score!.drifted).toBe(report.columns.score!.score >= 2);
  });

  it('names the field and the fix for every bad body', async () => {
    const ok = { reference: { a: [1, 2, 3] }, current: { a: [1, 2, 4] } };
    await expect400(
      { ...ok, columnTypes: { b: 'numerical' } },
      'columnTypes.b',
      /names no column of current; use one of "a"/,
    );
    await expect400({ ...ok, methods: { zz: 'ks' } }, 'methods.zz', /names no column/);
    await expect400(
      { reference: { a: [1] }, current: { a: [1], b: [2] } },
      'current.b',
      /add it to reference/,
    );
    await expect400(
      { reference: { a: 5 }, current: { a: [1] } },
      'reference.a',
      /expected array.*send the column as an array/,
    );
    await expect400({ reference: { a: [1] }, current: { a: [] } }, 'current.a', /is empty/);
    await expect400({ ...ok, methods: { a: 'kolmogorov' } }, 'methods.a', /use one of ks, chisquare, z/);
    await expect400(
      { reference: { a: ['x', 'y'] }, current: { a: ['x'] }, methods: { a: 'wasserstein' } },
      'methods.a',
      /compares numbers/,
    );
    await expect400(
      { reference: { a: [{ x: 1 }] }, current: { a: [1] } },
      'reference.a[0]',
      /numbers, strings, booleans or null/,
    );
    await expect400({ ...ok, extra: 1 }, 'extra', /unknown field; remove it/);
    await expect400({ current: { a: [1] } }, 'reference', /send an object of columns/);
    await expect400({ ...ok, thresholds: { a: -1 } }, 'thresholds.a', /positive number/);
    await expect400(
      {
        reference: { 'unit price': [1] },
        current: { 'unit price': ['x'] },
        columnTypes: { 'unit price': 'numerical' },
      },
      'current["unit price"][0]',
      /not a number/,
    );
  });

  it('is described in OpenAPI, and real requests and answers fit the described schemas', async () => {
    // The monitoring section alone, as document.ts assembles areas; /openapi.json lists it once wired.
    const document = {
      openapi: '3.1.0',
      info: { title: 'Meridian monitoring', version: '0' },
      paths: MONITORING.paths,
      components: { schemas: { Error: ERROR_SCHEMA, ...MONITORING.schemas } },
    };
    const checked = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(checked.valid, checked.valid ? '' : compileErrors(checked)).toBe(true);
    expect(document.paths['/v1/drift']?.post?.operationId).toBe('driftReport');
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true, logger: false });
    ajv.addSchema({ ...document, $id: 'urn:meridian:drift' });
    const request = ajv.compile({ $ref: 'urn:meridian:drift#/components/schemas/DriftRequest' });
    const answer = ajv.compile({ $ref: 'urn:meridian:drift#/components/schemas/DriftReport' });
    const c = fixtureCases<ReportCase>('report')[0]!;
    const body = {
      reference: c.reference,
      current: c.current,
      methods: { age: 'psi' },
      thresholds: { age: 0.2 },
    };
    expect(request(body), JSON.stringify(request.errors)).toBe(true);
    expect(request({ ...body, methods: { age: 'nope' } })).toBe(false);
    const res = await post(body);
    expect(answer(res.json()), JSON.stringify(answer.errors)).toBe(true);
  });

  it('answers 413 naming the limit when the datasets are larger than the body limit', async () => {
    const small = createHttpServer({
      logger: silentLogger,
      metrics: createMetricsRegistry(false),
      stores: {},
      isAccepting: () => true,
    });
    registerDriftRoutes(small, { maxBodyBytes: 1000 });
    try {
      const values = Array.from({ length: 300 }, (_, i) => i);
      const res = await small.inject({
        method: 'POST',
        url: '/v1/drift',
        payload: { reference: { a: values }, current: { a: values } },
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({
        code: 'RESOURCE_EXHAUSTED',
        details: { field: 'body', limitBytes: 1000 },
      });
      const bad = await small.inject({ method: 'POST', url: '/v1/drift', payload: { reference: {} } });
      expect(bad.statusCode).toBe(400);
    } finally {
      await small.close();
    }
  });
});
