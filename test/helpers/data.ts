import { existsSync, readdirSync } from 'node:fs';
import { resolve, join } from 'node:path';

/** The shared UTKFace copy (AGEGENDER_UTKFACE_DIR overrides). Tests fail loudly when it is missing. */
export function utkfaceDir(): string {
  const dir = process.env.AGEGENDER_UTKFACE_DIR ?? resolve(process.cwd(), '../shared/datasets/utkface');
  if (!existsSync(join(dir, 'UTKFace'))) {
    throw new Error(`UTKFace data not found at ${dir}: set AGEGENDER_UTKFACE_DIR to the folder holding UTKFace/ and crop_part1/`);
  }
  return dir;
}

/** The shared copy's UTKFace/ chip folder. */
export function utkfaceChipDir(): string {
  return join(utkfaceDir(), 'UTKFace');
}

/** The first `count` chip names of UTKFace/ in sorted order (deterministic small samples). */
export function sampleChips(count: number, folder = 'UTKFace'): string[] {
  const dir = join(utkfaceDir(), folder);
  return readdirSync(dir)
    .filter((n) => /^\d+_[01]_[0-4]_\d+\.jpg\.chip\.jpg$/.test(n))
    .sort()
    .slice(0, count)
    .map((n) => join(dir, n));
}
