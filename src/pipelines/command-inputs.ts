/**
 * A command cannot read the artifact store, so each upstream file its templates name
 * (`{{inputs.STEP.files.NAME}}`) is copied into the attempt's directory first, and the template
 * gives the local copy's path instead of the artifact path.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../stores/artifact/port.js';
import { type TemplateRef, templateRefs } from './template.js';
import type { StepOutput } from './types.js';

function filesOf(output: StepOutput | undefined): Record<string, unknown> | null {
  const files = output?.files;
  return typeof files === 'object' && files !== null && !Array.isArray(files)
    ? (files as Record<string, unknown>)
    : null;
}

/** A text's templates; none when malformed, which rendering then reports with its field. */
function refsOf(text: string): TemplateRef[] {
  try {
    return templateRefs(text, 'command');
  } catch {
    return [];
  }
}

/** inputs with every file the texts name downloaded under dir and replaced by its local path. */
export async function localizeInputFiles(
  texts: readonly string[],
  inputs: Record<string, StepOutput>,
  artifact: ArtifactStore,
  dir: string,
): Promise<Record<string, StepOutput>> {
  const localized: Record<string, StepOutput> = { ...inputs };
  for (const text of texts) {
    for (const ref of refsOf(text)) {
      const [root, step, files, ...name] = ref.path;
      if (root !== 'inputs' || files !== 'files' || step === undefined || name.length === 0) continue;
      const file = name.join('.');
      const current = filesOf(localized[step]);
      const source = current?.[file];
      // Not a stored file, or one already copied by an earlier template.
      if (typeof source !== 'string' || source !== filesOf(inputs[step])?.[file]) continue;
      const local = join(dir, step, file);
      await mkdir(dirname(local), { recursive: true });
      await pipeline(await artifact.get(source), createWriteStream(local));
      localized[step] = { ...localized[step], files: { ...current, [file]: local } };
    }
  }
  return localized;
}
