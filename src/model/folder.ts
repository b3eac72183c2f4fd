/**
 * What can be known about a model folder without loading TensorFlow.js: its file names, where the
 * shipped model lives, and which manifest a folder was trained on.
 *
 * @example
 *   if (!trainedOnManifest('workspace/utk/model', summary.manifestSha256)) await train({ ... });
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgeGenderError } from '../core/errors.js';

/** The files of a model folder (see `io.ts`). */
export const MODEL_FILES = Object.freeze({ model: 'model.json', weights: 'weights.bin', metadata: 'metadata.json', metrics: 'metrics.json' });

/**
 * The encoder weights' licence (face-api, MIT), shipped beside the default model and written into every
 * model folder `train` makes: fine-tuned copies of those weights carry their notice.
 */
export const ENCODER_LICENSE_FILE = 'LICENSE-face-api';

/** The package root (the folder holding agegender's package.json), found from this file. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'agegender') return dir;
      } catch {
        // keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new AgeGenderError('MODEL_NOT_LOADED', 'cannot find the agegender package root', { subject: fileURLToPath(import.meta.url) });
    dir = up;
  }
}

/** Folder of the model shipped with the package. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'default');
}

/** The training manifest's SHA-256 that `modelDir`'s metadata records, or null (none recorded, no folder, unreadable metadata). */
export function recordedManifestHash(modelDir: string): string | null {
  const metadataPath = join(modelDir, MODEL_FILES.metadata);
  if (!existsSync(metadataPath)) return null;
  try {
    const metadata = JSON.parse(readFileSync(metadataPath, 'utf8')) as { datasetManifestHash?: string | null };
    return typeof metadata.datasetManifestHash === 'string' ? metadata.datasetManifestHash : null;
  } catch {
    return null;
  }
}

/**
 * True when `modelDir` holds a model whose metadata records `manifestSha256` as its training
 * manifest (so training on that manifest again can be skipped); false when either is missing.
 */
export function trainedOnManifest(modelDir: string, manifestSha256: string | undefined): boolean {
  return manifestSha256 !== undefined && manifestSha256 !== '' && recordedManifestHash(modelDir) === manifestSha256;
}
