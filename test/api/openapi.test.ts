import { rmSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/api/http.js';
import type { Method } from '../../src/api/openapi/common.js';
import { documentedPaths, type OpenApiDocument } from '../../src/api/openapi/document.js';
import { loadConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Platform } from '../../src/platform.js';
import { tempStoreDir } from '../helpers/servers.js';
import { inferBody, type ServedPlatform, startServedPlatform } from '../serving/served-platform.js';

const SPEC_ID = 'urn:meridian:openapi';

/** `METHOD /path` of every operation of a document's paths. */
function operationsOf(paths: OpenApiDocument['paths']): string[] {
  return Object.entries(paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

async function fetchDocument(baseUrl: string): Promise<OpenApiDocument> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

async function expectValidOpenApi(document: OpenApiDocument): Promise<void> {
  // The parser dereferences in place; keep the caller's copy as served.
  const result = await validate(structuredClone(document));
  expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
}

/** Validators of the document's own schemas: a JSON Schema 2020-12 engine, refs resolved inside it. */
function schemaValidators(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true, logger: false });
  ajv.addSchema({ ...document, $id: SPEC_ID });
  const compile = (schema: { $ref?: string }) => {
    expect(schema.$ref, 'bodies refer to a component schema').toMatch(/^#\/components\/schemas\//);
    return ajv.compile({ $ref: `${SPEC_ID}${schema.$ref}` });
  };
  return {
    /** The documented request body schema of an operation, for one media type. */
    requestBody(path: string, method: Method, mediaType = 'application/json') {
      const operation = document.paths[path]?.[method];
      const schema = operation?.requestBody?.content[mediaType]?.schema;
      expect(schema, `${method} ${path} documents a ${mediaType} body`).toBeDefined();
      return compile(schema as { $ref?: string });
    },
    /** A component schema by name. */
    component(name: string) {
      return compile({ $ref: `#/components/schemas/${name}` });
    },
  };
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('GET /openapi.json on an `all` platform', () => {
  let served: ServedPlatform;
  let url: string;
  let document: OpenApiDocument;

  beforeAll(async () => {
    served = await startServedPlatform('openapi');
    url = served.platform.httpUrl;
    document = await fetchDocument(url);
  }, 60_000);
  afterAll(async () => {
    await served?.stop();
  });

  it('documents every route the platform registers, and every documented route is registered', () => {
    // The served document is built from Fastify's onRoute hook; a route nobody documented is
    // served as a stub marked x-undocumented, so it shows up here by name.
    const undocumented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => operation['x-undocumented'])
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undocumented).toEqual([]);
    expect(operationsOf(document.paths)).toEqual(operationsOf(documentedPaths()));
    expect(operationsOf(document.paths)).toEqual(
      expect.arrayContaining([
        'POST /v1/apply',
        'POST /v1/sources/{source}/events',
        'POST /v1/sources/{source}/files',
        'POST /get-online-features',
        'POST /v1/features/historical',
        'GET /v1/feature-views/{name}/lineage',
        'POST /v1/models/{name}/versions',
        'POST /v1/models/{name}/predict',
        'POST /v2/models/{model}/versions/{version}/infer',
        'GET /metrics',
      ]),
    );
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expectValidOpenApi(document);
  });

  it('gives every operation a summary, its path parameters and its answers', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.summary, where).toMatch(/\w/);
        const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared, where).toEqual([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
        expect(
          Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status)),
          where,
        ).toBe(true);
      }
    }
  });

  it('describes the error body the REST error handler sends, and the OIP one under /v2', async () => {
    const schemas = schemaValidators(document);
    const rest = await fetch(`${url}/v1/models/no_such_model`);
    expect(rest.status).toBe(404);
    const restBody = (await rest.json()) as { code?: string };
    expect(schemas.component('Error')(restBody), JSON.stringify(restBody)).toBe(true);
    expect(restBody.code).toBe('NOT_FOUND');
    const oip = await fetch(`${url}/v2/models/no_such_model`);
    expect(oip.status).toBe(404);
    const oipBody = await oip.json();
    expect(oipBody).toEqual({ error: expect.any(String) });
    expect(schemas.component('OipError')(oipBody)).toBe(true);
    const predict = document.paths['/v1/models/{name}/predict']?.post;
    expect(predict?.responses['400']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
  });

  it('accepts a real hydrated prediction body and refuses the bodies the route refuses', async () => {
    const valid = schemaValidators(document).requestBody('/v1/models/{name}/predict', 'post');
    expect(valid({ entities: { user_id: [101, 102] }, includeFeatures: true })).toBe(true);
    expect(valid({ entities: { user_id: [101] } })).toBe(true);
    const refused = [
      { entities: { user_id: [101] }, extra: 1 },
      { entities: { user_id: [101] }, includeFeatures: 'yes' },
      { includeFeatures: true },
    ];
    for (const body of refused) {
      expect(valid(body), JSON.stringify(body)).toBe(false);
      const response = await post(`${url}/v1/models/${served.model.name}/predict`, JSON.stringify(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('accepts a real OIP inference body, describes its answer, and refuses a body the server refuses', async () => {
    const schemas = schemaValidators(document);
    const valid = schemas.requestBody('/v2/models/{model}/infer', 'post');
    const body = inferBody(served.rows.slice(0, 3), 'req-1');
    expect(valid(JSON.parse(body))).toBe(true);
    const answer = await post(`${url}/v2/models/${served.model.name}/infer`, body);
    expect(answer.status).toBe(200);
    const answerBody = await answer.json();
    expect(schemas.component('InferResponse')(answerBody), JSON.stringify(answerBody)).toBe(true);

    const parsed = JSON.parse(body);
    const noData = { inputs: [{ name: 'input', datatype: 'FP64', shape: [1, 8] }] };
    const badType = { inputs: [{ ...parsed.inputs[0], datatype: 'FLOAT64' }] };
    for (const bad of [noData, badType, { inputs: [] }]) {
      expect(valid(bad), JSON.stringify(bad)).toBe(false);
      const refused = await post(`${url}/v2/models/${served.model.name}/infer`, JSON.stringify(bad));
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(schemas.component('OipError')(await refused.json())).toBe(true);
    }
  });

  it("documents Triton's binary tensor extension, and a binary request as documented is answered", async () => {
    const infer = document.paths['/v2/models/{model}/infer']?.post;
    expect(infer?.parameters?.map((p) => `${p.in}:${p.name}`)).toContain(
      'header:Inference-Header-Content-Length',
    );
    expect(Object.keys(infer?.requestBody?.content ?? {})).toEqual([
      'application/json',
      'application/octet-stream',
    ]);
    expect(Object.keys(infer?.responses['200']?.headers ?? {})).toEqual(['Inference-Header-Content-Length']);

    const rows = served.rows.slice(0, 2);
    const tensor = Buffer.from(new Float64Array(rows.flat()).buffer);
    const header = {
      inputs: [
        {
          name: 'input',
          datatype: 'FP64',
          shape: [rows.length, rows[0]!.length],
          parameters: { binary_data_size: tensor.byteLength },
        },
      ],
      parameters: { binary_data_output: true },
    };
    expect(schemaValidators(document).requestBody('/v2/models/{model}/infer', 'post')(header)).toBe(true);
    const json = Buffer.from(JSON.stringify(header));
    const response = await fetch(`${url}/v2/models/${served.model.name}/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(json.byteLength),
      },
      body: Buffer.concat([json, tensor]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(Number(response.headers.get('inference-header-content-length'))).toBeGreaterThan(0);
  });

  it('derives the apply body from the zod schema the route validates with', () => {
    const valid = schemaValidators(document).requestBody('/v1/apply', 'post');
    const entity = { name: 'user', joinKeys: ['user_id'] };
    expect(valid({ entities: [entity] })).toBe(true);
    expect(valid({ entities: [{ ...entity, color: 'red' }] })).toBe(false);
    expect(valid({ entities: [{ ...entity, name: 'User' }] })).toBe(false);
  });
});

describe('GET /openapi.json on one target', () => {
  it('lists only the routes of the features target, all documented', async () => {
    const dir = tempStoreDir('openapi-features');
    const config = loadConfig({
      cwd: dir,
      env: {},
      overrides: {
        target: 'features',
        dataDir: dir,
        http: { host: '127.0.0.1', port: 0 },
        grpc: { host: '127.0.0.1', port: 0 },
      },
    });
    const platform = await Platform.start(config, { logger: silentLogger });
    try {
      const document = await fetchDocument(platform.httpUrl);
      const operations = operationsOf(document.paths);
      expect(operations).toContain('POST /v1/apply');
      expect(operations).toContain('POST /v1/features/online');
      expect(operations.filter((o) => o.includes('/v1/models') || o.includes('/v2'))).toEqual([]);
      expect(Object.values(document.paths).flatMap((item) => Object.values(item))).not.toContainEqual(
        expect.objectContaining({ 'x-undocumented': true }),
      );
      await expectValidOpenApi(document);
    } finally {
      await platform.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('marks a route added without documentation, warns about it, and stays valid', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const app = createHttpServer({ logger, metrics: new Registry(), stores: {}, isAccepting: () => true });
    await app.register(
      async (scope) => {
        scope.post('/widgets/:id', async () => ({}));
      },
      { prefix: '/v9' },
    );
    try {
      const response = await app.inject('/openapi.json');
      const document = response.json() as OpenApiDocument;
      expect(operationsOf(document.paths)).toEqual([
        'GET /healthz',
        'GET /metrics',
        'GET /openapi.json',
        'GET /readyz',
        'POST /v9/widgets/{id}',
      ]);
      expect(document.paths['/v9/widgets/{id}']?.post?.['x-undocumented']).toBe(true);
      expect(warnings.join('')).toContain('/v9/widgets/{id}');
      await expectValidOpenApi(document);
    } finally {
      await app.close();
    }
  });
});
