/**
 * Hydrating prediction: `POST /v1/models/{name}/predict` (the production version) and
 * `POST /v1/models/{name}/versions/{version}/predict` with `{"entities": {"user_id": [101, 102]},
 * "includeFeatures": false}`. The version's feature service is read from the online store, the input
 * batch is built in the model's input order, and the answer is `{model, version, predictions}` for
 * regressors or `{model, version, probabilities, labels}` for classifiers, in entity order, plus
 * `features` (input name -> values used, NaN as null) when asked.
 *
 * Input mapping: each of the version's input names (`--inputs`, else the names in the model file)
 * is either a `view:feature` ref of the service, or a feature name that exactly one of the service's
 * features carries (`--features churn_model --inputs amount,clipped_amount`). A version with no
 * input names takes the service's features in order. A value the store does not have (NOT_FOUND,
 * OUTSIDE_MAX_AGE) follows the version's missing policy (`--missing`): a declared default for that
 * input (keyed by its input name, its `view:feature` ref or its bare feature name), else NaN under `"default": "nan"`, else FAILED_PRECONDITION naming the entity and feature.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import { newUuid } from '../../core/ids.js';
import type { Catalog } from '../../features/catalog.js';
import { getOnlineFeatures } from '../../features/retrieval/online.js';
import type { InferenceObservation, InferenceObserver } from '../../serving/inference-observation.js';
import { checkName, checkVersion, type MissingPolicy } from '../../serving/model-version.js';
import type { ModelRegistry } from '../../serving/registry.js';
import type { ModelResolver, ServedModel } from '../../serving/resolver.js';
import type { Prediction } from '../../serving/runtimes/model.js';
import type { OnlineStore } from '../../stores/online/port.js';
import { assemble, featureValues, inputColumns, serviceOf } from './predict-inputs.js';

export interface PredictRouteDeps {
  resolver: ModelResolver;
  /** Where a version's missing-value policy is read (once per version). */
  registry: Pick<ModelRegistry, 'version'>;
  online: OnlineStore;
  catalog: Catalog;
  /**
   * Reloads the catalog when another process applies definitions (the `serving` target reads the
   * feature registry it does not own): run in the background at most every `catalogMaxAgeMs`
   * (default 5 s), and awaited once before answering that a feature service is not applied.
   */
  refreshCatalog?: () => Promise<void>;
  catalogMaxAgeMs?: number;
  /** Told about every request (latency statistics, the prediction log) as protocol `predict`. */
  observer?: InferenceObserver;
  clock?: Clock;
}

interface PredictBody {
  entities: unknown;
  includeFeatures: boolean;
}

const BODY_HINT = 'send {"entities": {"user_id": [101, 102]}, "includeFeatures": false}';
const POLICY_CACHE_LIMIT = 1000;

/** Registers the two hydrating prediction routes. */
export function registerPredictRoutes(app: FastifyInstance, deps: PredictRouteDeps): void {
  const policies = new Map<string, MissingPolicy>();
  const fresh = catalogFreshener(deps);
  const run = (name: string, version: number | undefined, body: unknown) =>
    predict(deps, fresh, policies, checkName(name), version, checkBody(body));
  app.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (request) =>
    run(request.params.name, undefined, request.body),
  );
  app.post<{ Params: { name: string; version: string } }>(
    '/v1/models/:name/versions/:version/predict',
    async (request) => run(request.params.name, checkVersion(request.params.version), request.body),
  );
}

/** What keeps the catalog fresh: `tick` before each request, `force` before a not-applied answer. */
interface Freshener {
  tick(): void;
  force(): Promise<void>;
}

function catalogFreshener(deps: PredictRouteDeps): Freshener {
  const refresh = deps.refreshCatalog;
  const maxAge = deps.catalogMaxAgeMs ?? 5000;
  if (!refresh) return { tick: () => undefined, force: async () => undefined };
  let last = Date.now();
  let running: Promise<void> | undefined;
  const force = () => {
    last = Date.now();
    // A failed reload keeps the previous catalog; the next request tries again.
    running ??= refresh()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return {
    tick: () => {
      if (Date.now() - last > maxAge) void force();
    },
    force,
  };
}

async function predict(
  deps: PredictRouteDeps,
  fresh: Freshener,
  policies: Map<string, MissingPolicy>,
  name: string,
  version: number | undefined,
  body: PredictBody,
): Promise<Record<string, unknown>> {
  const time = Date.now();
  const started = performance.now();
  fresh.tick();
  const served = await deps.resolver.resolve(name, version);
  const base = { requestId: newUuid(), model: served.name, version: served.version, time };
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const { answer, observed } = await hydrateAndPredict(deps, fresh, policies, served, body);
    deps.observer?.observe({
      ...base,
      protocol: 'predict',
      requestSeconds: seconds(),
      ok: true,
      ...observed,
    });
    return answer;
  } catch (err) {
    deps.observer?.observe({ ...base, protocol: 'predict', requestSeconds: seconds(), ok: false });
    throw err;
  }
}

type Observed = Pick<
  InferenceObservation,
  'computeSeconds' | 'batch' | 'prediction' | 'featureNames' | 'classLabels' | 'entityKeys'
>;

async function hydrateAndPredict(
  deps: PredictRouteDeps,
  fresh: Freshener,
  policies: Map<string, MissingPolicy>,
  served: ServedModel,
  body: PredictBody,
): Promise<{ answer: Record<string, unknown>; observed: Observed }> {
  const service = serviceOf(served);
  if (!deps.catalog.service(service)) await fresh.force();
  const { columns, refCount } = inputColumns(deps.catalog, served, service);
  const policy = await policyOf(deps.registry, policies, served);
  const read = await getOnlineFeatures(
    deps.online,
    deps.catalog,
    { featureService: service, entities: body.entities },
    deps.clock ? { clock: deps.clock } : {},
  );
  const rows = read.results[0]?.values.length ?? 0;
  if (rows === 0) throw invalidArgument('entities', 'names no entity', BODY_HINT);
  const keyCount = read.metadata.feature_names.length - refCount;
  const batch = { rows, values: assemble(read, keyCount, columns, policy, served) };
  const computeStarted = performance.now();
  const prediction = await served.model.predict(batch);
  const computeSeconds = (performance.now() - computeStarted) / 1000;
  const answer: Record<string, unknown> = { model: served.name, version: served.version };
  Object.assign(answer, outputs(served, prediction, rows));
  if (body.includeFeatures) answer.features = featureValues(columns, batch.values, rows);
  const entityKeys = Object.fromEntries(
    read.metadata.feature_names.slice(0, keyCount).map((key, k) => [key, read.results[k]!.values]),
  );
  const { classLabels } = served.model.signature;
  const observed: Observed = {
    computeSeconds,
    batch,
    prediction,
    featureNames: columns.map((c) => c.input),
    entityKeys,
    ...(classLabels ? { classLabels } : {}),
  };
  return { answer, observed };
}

function checkBody(body: unknown): PredictBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument('body', 'must be a JSON object', BODY_HINT);
  }
  const { entities, includeFeatures = false, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw invalidArgument(extra, 'is not a field of a prediction request', BODY_HINT);
  if (entities === undefined) throw invalidArgument('entities', 'is missing', BODY_HINT);
  if (typeof includeFeatures !== 'boolean') throw invalidArgument('includeFeatures', 'must be true or false');
  return { entities, includeFeatures };
}

/** The version's missing policy; versions never change it, so it is read once. */
async function policyOf(
  registry: PredictRouteDeps['registry'],
  cache: Map<string, MissingPolicy>,
  served: ServedModel,
): Promise<MissingPolicy> {
  const key = `${served.name}\u0000${served.version}`;
  const known = cache.get(key);
  if (known) return known;
  const policy = (await registry.version(served.name, served.version)).missingPolicy ?? {
    default: 'error',
  };
  if (cache.size >= POLICY_CACHE_LIMIT) cache.clear();
  cache.set(key, policy);
  return policy;
}

/** The outputs of the tensor conventions, as JSON arrays in entity order. */
function outputs(served: ServedModel, prediction: Prediction, rows: number): Record<string, unknown> {
  if (prediction.predictions) return { predictions: Array.from(prediction.predictions) };
  const { classCount = 2, classLabels } = served.model.signature;
  const flat = prediction.probabilities!;
  // Plain loops: a typed-array view and Array.from per row cost more than the rest of this function.
  const probabilities = new Array<number[]>(rows);
  for (let r = 0; r < rows; r++) {
    const row = new Array<number>(classCount);
    for (let c = 0; c < classCount; c++) row[c] = flat[r * classCount + c]!;
    probabilities[r] = row;
  }
  const label = prediction.label ?? [];
  const labels = new Array<number | string>(label.length);
  for (let r = 0; r < label.length; r++) labels[r] = classLabels?.[label[r]!] ?? label[r]!;
  return { probabilities, labels };
}
