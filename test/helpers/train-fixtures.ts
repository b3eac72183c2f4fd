/** Shared by the model/train tests: the UTKFace folder and a tiny workspace made from file names. */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ETHNICITIES, GENDERS, type ManifestRow, type SplitName } from '../../src/core/types.js';

/** `../shared/datasets/utkface` from the repo root, or $AGEGENDER_UTKFACE_DIR. Throws when missing. */
export function utkfaceDir(): string {
  const dir = process.env['AGEGENDER_UTKFACE_DIR'] ?? resolve(process.cwd(), '../shared/datasets/utkface');
  const chips = existsSync(join(dir, 'UTKFace')) ? join(dir, 'UTKFace') : dir;
  if (!existsSync(chips)) throw new Error(`UTKFace not found at ${dir}: set AGEGENDER_UTKFACE_DIR to a folder holding UTKFace chips`);
  return chips;
}

/** First `n` well-named chips (sorted, every `stride`-th), labels parsed from names. */
export function pickChips(n: number, stride = 97): Array<{ source: string; age: number; gender: 'male' | 'female'; ethnicity: (typeof ETHNICITIES)[number] }> {
  const dir = utkfaceDir();
  const names = readdirSync(dir).filter((f) => /^\d+_[01]_[0-4]_\d+\.jpg\.chip\.jpg$/.test(f)).sort();
  const out = [];
  for (let i = 0; out.length < n && i < names.length; i += 1) {
    const name = names[(i * stride) % names.length]!;
    const [age, g, e] = name.split('_').map(Number) as [number, number, number];
    out.push({ source: join(dir, name), age, gender: GENDERS[g]!, ethnicity: ETHNICITIES[e]! });
  }
  return out;
}

/** Writes `<dir>/manifest.jsonl` with the chips split 60/20/20 in order. */
export async function makeWorkspace(dir: string, n: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const chips = pickChips(n);
  const rows: ManifestRow[] = chips.map((c, i) => {
    const split: SplitName = i % 5 < 3 ? 'train' : i % 5 === 3 ? 'val' : 'test';
    return { source: c.source, name: c.source.split('/').pop()!, size: 0, sha256: null, phash: null, width: 200, height: 200, age: c.age, gender: c.gender, ethnicity: c.ethnicity, datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split };
  });
  await writeFile(join(dir, 'manifest.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}
