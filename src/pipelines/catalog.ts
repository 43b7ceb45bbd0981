/**
 * The pipelines a process knows: registered in code, or loaded from modules (`pipelines.modules`,
 * `meridian worker --pipelines`) whose exported definePipeline() results are taken.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidArgument, MeridianError } from '../core/errors.js';
import { isPipeline } from './define.js';
import type { Pipeline } from './types.js';

export class Catalog {
  readonly #pipelines = new Map<string, Pipeline>();

  /** Adds or replaces a definition. */
  register(pipeline: Pipeline): void {
    if (!isPipeline(pipeline)) {
      throw invalidArgument(
        'pipeline',
        'is not a definePipeline() result',
        'wrap the definition in definePipeline({...})',
      );
    }
    this.#pipelines.set(pipeline.name, pipeline);
  }

  /** The definition, or undefined. */
  find(name: string): Pipeline | undefined {
    return this.#pipelines.get(name);
  }

  /** The definition; NOT_FOUND naming the known ones otherwise. */
  get(name: string): Pipeline {
    const found = this.#pipelines.get(name);
    if (found) return found;
    const known = [...this.#pipelines.keys()].sort();
    throw new MeridianError('NOT_FOUND', `pipeline ${JSON.stringify(name)} is not defined`, {
      field: 'name',
      hint: known.length
        ? `defined pipelines: ${known.join(', ')}`
        : 'no pipelines are loaded; list their modules in pipelines.modules',
    });
  }

  list(): readonly Pipeline[] {
    return [...this.#pipelines.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** Imports each module (a path, relative to the working directory, or a package) and answers its pipelines. */
export async function loadPipelineModules(modules: readonly string[]): Promise<Pipeline[]> {
  const found: Pipeline[] = [];
  for (const spec of modules) {
    const url = spec.startsWith('.') || spec.startsWith('/') ? pathToFileURL(resolve(spec)).href : spec;
    let exports: Record<string, unknown>;
    try {
      exports = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `pipeline module ${spec} could not be loaded: ${(err as Error).message}`,
        {
          field: 'pipelines.modules',
          hint: 'check the path (relative to the working directory) and that the module builds',
        },
        { cause: err },
      );
    }
    const pipelines = Object.values(exports).filter(isPipeline);
    if (pipelines.length === 0) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `pipeline module ${spec} exports no definePipeline() result`,
        {
          field: 'pipelines.modules',
          hint: 'export const myPipeline = definePipeline({...})',
        },
      );
    }
    found.push(...pipelines);
  }
  return found;
}
