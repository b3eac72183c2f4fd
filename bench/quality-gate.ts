// The quality gate (src/pipeline/quality.ts) with detection off, as `predict --no-detect` runs it:
// false rejections on real UTKFace val chips (target ≤ 1%), and what it says about bad inputs
// (blank, flat, noise, 1×1, non-face photo, which must all be refused).
//   [GATE_DETECTOR=ssd|yunet] node --conditions=agegender-source --import tsx bench/quality-gate.ts [workspace (default workspace/utk)] [chips (default 400)]
import sharp from 'sharp';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { reasonOf } from 'agegender/core';
import { decodeImage } from 'agegender/io';
import type { RawImage } from 'agegender/io';
import { loadFaceDetector } from 'agegender/pipeline';
import { gateChip } from 'agegender/pipeline';
import { readManifest } from 'agegender/workspace';

const workspace = resolve(process.argv[2] ?? 'workspace/utk');
const n = Number(process.argv[3] ?? 400);
const val = (await readManifest(workspace)).filter((r) => r.split === 'val' && r.status === 'kept');
const step = val.length / n;
const chips = Array.from({ length: Math.min(n, val.length) }, (_v, i) => val[Math.floor(i * step)]!);
const detector = await loadFaceDetector({ detector: (process.env['GATE_DETECTOR'] ?? 'auto') as 'auto' | 'yunet' | 'ssd' });
console.log(`detector: ${detector.name}; ${chips.length} val chips spread over ${val.length}`);
const rejected: string[] = [];
const scores: number[] = [];
const t0 = performance.now();
for (const row of chips) {
  const image = await decodeImage(await readFile(row.source), row.source);
  try {
    scores.push((await gateChip(image, detector, row.name)).quality.score);
  } catch (error) {
    rejected.push(`${row.name} (age ${row.age}): ${reasonOf(error)}`);
  }
}
const ms = (performance.now() - t0) / chips.length;
scores.sort((a, b) => a - b);
console.log(`false rejections: ${rejected.length} of ${chips.length} = ${((100 * rejected.length) / chips.length).toFixed(2)}% (${ms.toFixed(1)} ms per chip with decoding)`);
console.log(`quality of accepted chips: median ${scores[Math.floor(scores.length / 2)]?.toFixed(3)}, 5th percentile ${scores[Math.floor(scores.length * 0.05)]?.toFixed(3)}`);
for (const r of rejected) console.log(`  rejected ${r}`);

const raw = (w: number, h: number, f: (i: number) => number): RawImage => ({ data: Uint8Array.from({ length: w * h * 3 }, (_v, i) => f(i)), width: w, height: h, channels: 3 });
let seed = 7;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 256;
const noFace = await decodeImage(await readFile('test/fixtures/photos/no-face.jpg'), 'no-face.jpg');
const bad: Array<[string, RawImage]> = [
  ['blank black 200×200', raw(200, 200, () => 0)],
  ['blank white 200×200', raw(200, 200, () => 255)],
  ['flat grey 200×200', raw(200, 200, () => 128)],
  ['flat colour 200×200', raw(200, 200, (i) => [200, 120, 90][i % 3]!)],
  ['noise 200×200', raw(200, 200, () => Math.floor(rand()))],
  ['1×1 grey', raw(1, 1, () => 128)],
  ['non-face photo (fixture)', noFace],
  ['blurred noise 200×200', await sharp(raw(200, 200, () => Math.floor(rand())).data, { raw: { width: 200, height: 200, channels: 3 } }).blur(3).raw().toBuffer().then((d) => ({ data: new Uint8Array(d), width: 200, height: 200, channels: 3 as const }))],
];
for (const [name, image] of bad) {
  const verdict = await gateChip(image, detector, name).then((g) => `ACCEPTED (quality ${g.quality.score.toFixed(3)})`, (e: unknown) => `refused: ${reasonOf(e)}`);
  console.log(`${name}: ${verdict}`);
}
detector.dispose();
