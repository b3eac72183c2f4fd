// How far does YuNet's score tell an upright face from the same face turned? Each photo is detected
// upright and turned 90°, 180° and 270° clockwise (best face score of each; 0 when none), and the
// search rule of analyze.ts (`turns`: search the turned copies when the upright best score is under
// τ, take the orientation scoring highest when it beats the upright by more than m) is simulated for
// every stored orientation, with and without a bar the turned face must reach. Chooses
// YUNET_DEFAULTS.uprightScore and turnedScore.
//   node --conditions=agegender-source --import tsx experiments/upright-score.ts --workspace /abs/workspace/utk [--scores out.json]
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadFaceDetector, type RawImage } from 'agegender';
import { turnImage, type QuarterTurn } from 'agegender/pipeline';
import { aafSample, grey, syntheticSample } from '../bench/detectors-images.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    aaf: { type: 'string', default: '../shared/datasets/aaf/photos' },
    scores: { type: 'string' },
  },
});
sharp.concurrency(1);
const detector = await loadFaceDetector();
const TURNS: QuarterTurn[] = [0, 90, 180, 270];
const aaf = await aafSample(values.aaf!, 1000, 4);
const sets: Record<string, RawImage[]> = {
  'AAF (every 4th, 1,000)': aaf,
  'AAF grey (300)': aaf.slice(0, 300).map(grey),
  'synthetic photos, val chips (300)': (await syntheticSample(resolve(values.workspace!), 300, 'val')).map((s) => s.image),
};
const scores: Record<string, number[][]> = {};
for (const [name, images] of Object.entries(sets)) {
  scores[name] = [];
  for (const im of images) {
    const row: number[] = [];
    for (const t of TURNS) row.push((await detector.detect(await turnImage(im, t))).reduce((m, f) => Math.max(m, f.score), 0));
    scores[name].push(row);
  }
}
detector.dispose();
if (values.scores) await writeFile(values.scores, JSON.stringify(scores));

/** The turn the rule picks for a photo stored turned by `stored` (S: best scores of the upright photo turned 0/90/180/270). */
function pick(S: number[], stored: number, tau: number, margin: number, bar: number): number {
  const at = (r: number): number => S[(r / 90) % 4]!;
  const u = at(stored);
  if (u >= tau) return 0;
  let best = 0;
  let turn = 0;
  for (const k of [90, 270, 180]) if (at(stored + k) > best) [best, turn] = [at(stored + k), k];
  return best > 0 && best >= bar && best > u + margin ? turn : 0;
}
const q = (xs: number[], p: number): string => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!.toFixed(3);
console.log('| photos | upright best score p1 / p5 / p50 | best turned score p50 / p99 / max | upright minus best turned: min / p1 / p5 |');
console.log('|---|---|---|---|');
for (const [name, rows] of Object.entries(scores)) {
  const turned = rows.map((S) => Math.max(...S.slice(1)));
  console.log(`| ${name} | ${q(rows.map((S) => S[0]!), 0.01)} / ${q(rows.map((S) => S[0]!), 0.05)} / ${q(rows.map((S) => S[0]!), 0.5)} | ${q(turned, 0.5)} / ${q(turned, 0.99)} / ${q(turned, 1)} | ${q(rows.map((S, i) => S[0]! - turned[i]!), 0)} / ${q(rows.map((S, i) => S[0]! - turned[i]!), 0.01)} / ${q(rows.map((S, i) => S[0]! - turned[i]!), 0.05)} |`);
}
console.log('');
console.log('| τ | m | turned bar | photos | upright photos searched | wrong orientation, stored 0° / 90° / 180° / 270° |');
console.log('|---|---|---|---|---|---|');
for (const [tau, m, bar] of [[0.9, 0, 0], [0.91, 0, 0], [0.92, 0, 0], [0.92, 0.02, 0], [0.92, 0, 0.8], [0.93, 0, 0], [1.01, 0, 0]] as const) {
  for (const [name, rows] of Object.entries(scores)) {
    const wrong = TURNS.map((t) => rows.filter((S) => pick(S, t, tau, m, bar) !== (360 - t) % 360).length);
    const searched = rows.filter((S) => S[0]! < tau).length;
    console.log(`| ${tau} | ${m} | ${bar} | ${name} | ${((100 * searched) / rows.length).toFixed(1)}% | ${wrong.join(' / ')} |`);
  }
}
console.log('');
console.log('| photos | upright best score under 0.7 / 0.8 / 0.85 (a sideways photo whose face scores less upright stays unturned with a turned bar there) |');
console.log('|---|---|');
for (const [name, rows] of Object.entries(scores)) console.log(`| ${name} | ${[0.7, 0.8, 0.85].map((b) => rows.filter((S) => S[0]! < b).length).join(' / ')} of ${rows.length} |`);
