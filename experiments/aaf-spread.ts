// Where does AAF's extra spread sit? AAF's MAE is ~1.27× what the same model makes on UTKFace test chips
// of the same ages. If photo conditions were the cause, the ratio would grow as faces get smaller, blurrier
// or less confidently detected. From `agegender predict --csv` on the AAF photos (one row per face: box,
// detector score, quality) and the labels, the subject (the largest face) is binned by face width, quality
// score and detector score. Each bin shows its MAE, the MAE UTKFace test has at the same ages (its MAE by
// decade, weighted by the bin's ages), and their ratio.
//   node bin/agegender.js predict ../shared/datasets/aaf/photos --csv --out tmp/aaf-predict.csv --workers 2
//   node --conditions=agegender-source --import tsx experiments/aaf-spread.ts tmp/aaf-predict.csv [../shared/datasets/aaf/labels.csv] [reports/evaluation-test/predictions.csv]
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseCsv } from 'agegender/core';

const [predictCsv, labelsCsv = '../shared/datasets/aaf/labels.csv', utkCsv = 'reports/evaluation-test/predictions.csv'] = process.argv.slice(2);
if (!predictCsv) throw new Error('usage: aaf-spread.ts <predict csv> [labels csv] [utkface predictions csv]');

/** A CSV as objects keyed by its header. */
async function table(file: string): Promise<Array<Record<string, string>>> {
  const [head, ...rows] = parseCsv(await readFile(file, 'utf8'));
  return rows.filter((r) => r.length === head!.length).map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i]!])));
}

const decade = (age: number): number => Math.min(8, Math.floor(age / 10));
const labels = new Map((await table(labelsCsv)).map((r) => [r.file!, Number(r.age)]));
const utkByDecade = new Map<number, { sum: number; n: number }>();
for (const r of await table(utkCsv)) {
  const e = utkByDecade.get(decade(Number(r.age))) ?? { sum: 0, n: 0 };
  e.sum += Math.abs(Number(r.age_error));
  e.n++;
  utkByDecade.set(decade(Number(r.age)), e);
}
const utkMae = (age: number): number => { const e = utkByDecade.get(decade(age))!; return e.sum / e.n; };

interface Face { age: number; error: number; width: number; quality: number; score: number }
const largest = new Map<string, Record<string, string>>();
for (const r of await table(predictCsv)) {
  if (r.age === '') continue;
  const file = basename(r.file!);
  const area = (x: Record<string, string>): number => Number(x.width) * Number(x.height);
  const best = largest.get(file);
  if (!best || area(r) > area(best)) largest.set(file, r);
}
const faces: Face[] = [...largest].flatMap(([file, r]) => {
  const age = labels.get(file);
  return age === undefined ? [] : [{ age, error: Number(r.age) - age, width: Number(r.width), quality: Number(r.quality), score: Number(r.score) }];
});
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`${faces.length} labelled photos with a face; MAE ${mean(faces.map((f) => Math.abs(f.error))).toFixed(3)}`);

function bins(name: string, key: (f: Face) => number, edges: number[]): void {
  console.log(`\n| ${name} | photos | MAE | UTKFace MAE at the same ages | ratio | mean signed error |\n|---|---|---|---|---|---|`);
  for (let i = 0; i + 1 < edges.length; i++) {
    const s = faces.filter((f) => key(f) >= edges[i]! && key(f) < edges[i + 1]!);
    if (s.length === 0) continue;
    const m = mean(s.map((f) => Math.abs(f.error)));
    const expected = mean(s.map((f) => utkMae(f.age)));
    console.log(`| ${edges[i]}–${edges[i + 1] === Infinity ? '' : edges[i + 1]} | ${s.length} | ${m.toFixed(2)} | ${expected.toFixed(2)} | ${(m / expected).toFixed(2)} | ${mean(s.map((f) => f.error)).toFixed(2)} |`);
  }
}
bins('face box width (px)', (f) => f.width, [0, 120, 160, 200, Infinity]);
bins('quality score', (f) => f.quality, [0, 0.5, 0.6, 0.65, 0.7, 0.75, 1.01]);
bins('detector score', (f) => f.score, [0, 0.85, 0.9, 0.93, 1.01]);
