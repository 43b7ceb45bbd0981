/**
 * `meridian models push|list|describe|promote|archive`: the model registry of a running server,
 * over its REST API (the embedded state store belongs to the server's process).
 */
import { existsSync, openAsBlob } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { invalidArgument, isMeridianError } from '../core/errors.js';
import {
  checkMissingPolicy,
  type ModelDescription,
  type ModelSummary,
  type ModelVersion,
} from '../serving/model-version.js';
import { MODEL_FORMATS } from '../serving/runtimes/model.js';
import { DEFAULT_URL, parseJson, request } from './rest.js';
import { table } from './table.js';

interface PushFlags {
  format: string;
  features?: string;
  inputs?: string;
  missing?: Record<string, unknown>;
  metrics?: string;
  url: string;
}

/** Registers `models` and its subcommands on the program. */
export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .description('the model registry: push, list, describe, promote, archive');
  models
    .command('push')
    .description('register a model file as a new version in staging')
    .argument('<name>', 'the model name')
    .argument('<file>', 'the saved model (ONNX, XGBoost JSON or LightGBM text)')
    .addOption(
      new Option('--format <format>', 'the model file format').choices(MODEL_FORMATS).makeOptionMandatory(),
    )
    .option('--features <feature-service>', 'the feature service it consumes')
    .option('--inputs <names>', 'feature names in input column order, comma-separated')
    .option(
      '--missing <json>',
      'what hydrated predictions do with a missing feature: {"default": "error"|"nan", "values": {"amount": 0}}',
      parseMissingFlag,
    )
    .option('--metrics <json>', 'training metrics as a JSON object', parseJsonObject)
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (name: string, file: string, flags: PushFlags) => {
      const pushed = await push(name, file, flags);
      process.stdout.write(
        `Pushed ${pushed.name} version ${pushed.version} (${pushed.stage}), sha256 ${pushed.sha256}\n` +
          `Promote it with: meridian models promote ${pushed.name} ${pushed.version}\n`,
      );
    });
  models
    .command('list')
    .description('list registered models with their latest and production versions')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (flags: { url: string }) => {
      const { models: list } = await request<{ models: ModelSummary[] }>(flags.url, 'GET', '/v1/models');
      process.stdout.write(list.length === 0 ? 'no models registered\n' : summaryTable(list));
    });
  models
    .command('describe')
    .description('show a model and all its versions as JSON')
    .argument('<name>', 'the model name')
    .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
    .action(async (name: string, flags: { url: string }) => {
      const described = await request<ModelDescription>(
        flags.url,
        'GET',
        `/v1/models/${encodeURIComponent(name)}`,
      );
      process.stdout.write(`${JSON.stringify(described, null, 2)}\n`);
    });
  for (const [command, stage, summary] of [
    [
      'promote',
      'production',
      'make a version the one answering by default (the previous one moves to staging)',
    ],
    ['archive', 'archived', 'retire a version'],
  ] as const) {
    models
      .command(command)
      .description(summary)
      .argument('<name>', 'the model name')
      .argument('<version>', 'the version number', parseVersion)
      .option('--url <url>', 'the server (env MERIDIAN_URL)', DEFAULT_URL)
      .action(async (name: string, version: number, flags: { url: string }) => {
        const path = `/v1/models/${encodeURIComponent(name)}/versions/${version}/stage`;
        const changed = await request<ModelVersion & { demotedVersion?: number }>(flags.url, 'POST', path, {
          stage,
        });
        const demoted = changed.demotedVersion ? ` (version ${changed.demotedVersion} moved to staging)` : '';
        process.stdout.write(`${name} version ${version} is now ${stage}${demoted}\n`);
      });
  }
}

async function push(name: string, file: string, flags: PushFlags) {
  const path = resolve(file);
  if (!existsSync(path)) throw invalidArgument('file', `no file at ${path}`, 'pass the saved model file');
  const form = new FormData();
  form.append('format', flags.format);
  if (flags.features) form.append('featureService', flags.features);
  if (flags.inputs) form.append('inputs', flags.inputs);
  if (flags.missing) form.append('missing', JSON.stringify(flags.missing));
  if (flags.metrics) form.append('metrics', JSON.stringify(flags.metrics));
  form.append('createdBy', userInfo().username);
  form.append('file', await openAsBlob(path), basename(path));
  const url = `/v1/models/${encodeURIComponent(name)}/versions`;
  return request<{ name: string; version: number; stage: string; sha256: string }>(
    flags.url,
    'POST',
    url,
    form,
  );
}

function parseVersion(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('expected a version number 1, 2, 3, ...');
  return Number(value);
}

/** A missing-value policy, checked here with the server's own rules so the error names the flag. */
function parseMissingFlag(value: string): Record<string, unknown> {
  const parsed = parseJson(value);
  try {
    checkMissingPolicy(parsed);
  } catch (err) {
    if (!isMeridianError(err)) throw err;
    throw new InvalidArgumentError(err.message);
  }
  return parsed as Record<string, unknown>;
}

function parseJsonObject(value: string): Record<string, unknown> {
  const parsed = parseJson(value);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object, e.g. {"auc": 0.91}');
  }
  return parsed as Record<string, unknown>;
}

function summaryTable(models: ModelSummary[]): string {
  const rows = [
    ['NAME', 'LATEST', 'PRODUCTION', 'CREATED'],
    ...models.map((m) => [
      m.name,
      String(m.latestVersion),
      m.productionVersion ? String(m.productionVersion) : '-',
      m.createdAt,
    ]),
  ];
  return table(rows);
}
