// How much of the AAF dev set's age MAE is the by-decade shift between populations? From the photo
// path's predictions on AAF (`photo-predictions.csv` of `agegender evaluate --photos` or bench:photos)
// and the shipped model's UTKFace test predictions (`reports/evaluation-test/predictions.csv`), the AAF
// MAE with, removed:
//   - AAF's own mean signed error in each decade of the labelled age (an oracle: it uses the labels,
//     and part of it is the regression to the mean every model shows, on UTKFace too);
//   - only the part of each decade's mean error that UTKFace test does not have (AAF − UTKFace);
//   - the mean error of the 30–59 decades only;
//   - a correction that needs no label: the mean (label − prediction) in 5-year bins of the predicted
//     age, fitted on one half of AAF and applied to the other (2-fold, 20 random splits): what the shift
//     is worth to anyone who could see it, measured, never shipped (nothing here trains the model on AAF).
// Also the UTKFace test MAE reweighted to AAF's age mix.
//   node --conditions=agegender-source --import tsx experiments/aaf-shift.ts <aaf photo-predictions.csv> [reports/evaluation-test/predictions.csv]
import { readFile } from 'node:fs/promises';
import { mulberry32, parseCsv, shuffleInPlace } from 'agegender/core';

const [aafCsv, utkCsv = 'reports/evaluation-test/predictions.csv'] = process.argv.slice(2);
if (!aafCsv) throw new Error('usage: aaf-shift.ts <aaf photo-predictions.csv> [utkface predictions.csv]');

/** (label, prediction) pairs of a CSV with `age` and `predicted_age` columns; rows without a prediction are left out. */
async function pairs(file: string): Promise<Array<{ age: number; pred: number }>> {
  const [head, ...rows] = parseCsv(await readFile(file, 'utf8'));
  const a = head!.indexOf('age');
  const p = head!.indexOf('predicted_age');
  if (a < 0 || p < 0) throw new Error(`${file}: needs the columns age and predicted_age`);
  return rows.filter((f) => f.length === head!.length && f[p] !== '').map((f) => ({ age: Number(f[a]), pred: Number(f[p]) }));
}

const decade = (age: number): number => Math.min(8, Math.floor(age / 10));
const meanBy = <T>(xs: readonly T[], key: (x: T) => number, value: (x: T) => number): Map<number, number> => {
  const sums = new Map<number, { s: number; n: number }>();
  for (const x of xs) { const k = key(x); const e = sums.get(k) ?? { s: 0, n: 0 }; e.s += value(x); e.n++; sums.set(k, e); }
  return new Map([...sums].map(([k, { s, n }]) => [k, s / n]));
};
const mae = (xs: ReadonlyArray<{ age: number; pred: number }>, shift: (x: { age: number; pred: number }) => number = () => 0): number =>
  xs.reduce((s, x) => s + Math.abs(x.pred - shift(x) - x.age), 0) / xs.length;

const aaf = await pairs(aafCsv);
const utk = await pairs(utkCsv);
const aafBias = meanBy(aaf, (x) => decade(x.age), (x) => x.pred - x.age);
const utkBias = meanBy(utk, (x) => decade(x.age), (x) => x.pred - x.age);

let crossFitted = 0;
const SPLITS = 20;
for (let rep = 0; rep < SPLITS; rep++) {
  const order = shuffleInPlace([...aaf.keys()], mulberry32(rep + 1));
  const halves = [order.slice(0, order.length >> 1), order.slice(order.length >> 1)];
  let sum = 0;
  for (const [fit, score] of [[halves[0]!, halves[1]!], [halves[1]!, halves[0]!]] as const) {
    const bins = meanBy(fit.map((i) => aaf[i]!), (x) => Math.floor(x.pred / 5), (x) => x.age - x.pred);
    for (const i of score) { const x = aaf[i]!; sum += Math.abs(x.pred + (bins.get(Math.floor(x.pred / 5)) ?? 0) - x.age); }
  }
  crossFitted += sum / aaf.length / SPLITS;
}

const utkByDecade = meanBy(utk, (x) => decade(x.age), (x) => Math.abs(x.pred - x.age));
// each AAF face weighted by UTKFace test's MAE in its decade: UTKFace at AAF's age mix
const utkAtAafMix = aaf.reduce((s, x) => s + (utkByDecade.get(decade(x.age)) ?? 0), 0) / aaf.length;

console.log(`AAF: ${aaf.length} faces; UTKFace: ${utk.length} chips\n`);
console.log('| decade | AAF mean error | UTKFace mean error | AAF − UTKFace |\n|---|---|---|---|');
for (const d of [...aafBias.keys()].sort((x, y) => x - y)) console.log(`| ${d * 10}s | ${aafBias.get(d)!.toFixed(2)} | ${(utkBias.get(d) ?? NaN).toFixed(2)} | ${(aafBias.get(d)! - (utkBias.get(d) ?? 0)).toFixed(2)} |`);
console.log('\n| what is removed | AAF MAE |\n|---|---|');
console.log(`| nothing | ${mae(aaf).toFixed(3)} |`);
console.log(`| AAF's own mean error in each decade (oracle) | ${mae(aaf, (x) => aafBias.get(decade(x.age))!).toFixed(3)} |`);
console.log(`| only AAF − UTKFace in each decade (oracle) | ${mae(aaf, (x) => aafBias.get(decade(x.age))! - (utkBias.get(decade(x.age)) ?? 0)).toFixed(3)} |`);
console.log(`| AAF's mean error of 30–59 only (oracle) | ${mae(aaf, (x) => ([3, 4, 5].includes(decade(x.age)) ? aafBias.get(decade(x.age))! : 0)).toFixed(3)} |`);
console.log(`| a correction by predicted age, fitted on the other half of AAF (2-fold, ${SPLITS} splits) | ${crossFitted.toFixed(3)} |`);
console.log(`\nUTKFace test MAE ${mae(utk).toFixed(3)}; reweighted to AAF's age mix ${utkAtAafMix.toFixed(3)}`);
