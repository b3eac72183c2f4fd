// Computes our pHash for the files in phash-reference.tsv and compares with the reference values.
// Usage: node --conditions=agegender-source --import tsx experiments/check-phash.ts [limit]
// Data folder: $AGEGENDER_UTKFACE_DIR or ../shared/datasets/utkface (relative to the working directory).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { decodeForHash } from 'agegender/io';
import { phashFromGray, hammingHex } from 'agegender/data';

const dir = process.env.AGEGENDER_UTKFACE_DIR ?? path.resolve(process.cwd(), '../shared/datasets/utkface');
const limitArg = process.argv[2];
const limit = limitArg === undefined ? Infinity : Number(limitArg);
if (!(limit > 0)) {
  console.error(`limit must be a positive number, got "${limitArg}"`);
  process.exit(2);
}

const rows = readFileSync(path.join(dir, 'phash-reference.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [file, phash, sha] = l.split('\t');
    return { file: file!, phash: phash!, sha: sha! };
  })
  .slice(0, limit);

interface Stats {
  total: number;
  match: number;
  shaMatch: number;
  errors: number;
  distances: Map<number, number>;
}
const stats = new Map<string, Stats>();
const mismatches: string[] = [];
let hashMs = 0;
const t0 = performance.now();

let next = 0;
async function worker(): Promise<void> {
  while (next < rows.length) {
    const row = rows[next++]!;
    const group = row.file.split('/')[0]!;
    let s = stats.get(group);
    if (!s) stats.set(group, (s = { total: 0, match: 0, shaMatch: 0, errors: 0, distances: new Map() }));
    s.total++;
    try {
      const bytes = await readFile(path.join(dir, row.file));
      if (createHash('sha256').update(bytes).digest('hex').slice(0, 16) === row.sha) s.shaMatch++;
      const img = await decodeForHash(bytes, row.file);
      const h0 = performance.now();
      const ours = phashFromGray(img.data, img.width, img.height);
      hashMs += performance.now() - h0;
      if (ours === row.phash) s.match++;
      else {
        const d = hammingHex(ours, row.phash);
        s.distances.set(d, (s.distances.get(d) ?? 0) + 1);
        mismatches.push(`${row.file}\tours=${ours}\tref=${row.phash}\td=${d}\t${img.width}x${img.height}`);
      }
    } catch (error) {
      s.errors++;
      mismatches.push(`${row.file}\tERROR ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
await Promise.all(Array.from({ length: 4 }, () => worker()));
const wall = performance.now() - t0;

let total = 0;
let match = 0;
for (const [group, s] of [...stats].sort()) {
  total += s.total;
  match += s.match;
  const dist = [...s.distances].sort((a, b) => a[0] - b[0]).map(([d, n]) => `d${d}:${n}`).join(' ');
  console.log(
    `${group}: ${s.match}/${s.total} exact (${((100 * s.match) / s.total).toFixed(3)}%), sha256 ${s.shaMatch}/${s.total}, errors ${s.errors}${dist ? `, mismatch distances ${dist}` : ''}`,
  );
}
console.log(`all: ${match}/${total} exact (${((100 * match) / total).toFixed(3)}%)`);
console.log(
  `time: ${(wall / total).toFixed(3)} ms/image wall (read + sha256 + decode + hash, 4 in flight), ${(hashMs / total).toFixed(3)} ms/image for resize + DCT`,
);
for (const m of mismatches.slice(0, 30)) console.log(m);
if (mismatches.length > 30) console.log(`... ${mismatches.length - 30} more`);
