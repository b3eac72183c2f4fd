/** Shared by the model/train tests: chips picked from UTKFace and a tiny workspace made from file names. */
import { readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ETHNICITIES, GENDERS, type ManifestRow, type SplitName } from '../../src/core/types.js';
import { utkfaceChipDir } from './data.js';

/** First `n` well-named chips (sorted, every `stride`-th), labels parsed from names. */
export function pickChips(n: number, stride = 97): Array<{ source: string; age: number; gender: 'male' | 'female'; ethnicity: (typeof ETHNICITIES)[number] }> {
  const dir = utkfaceChipDir();
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
