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
import { DECADE_BIAS_MIN_FACES, decadeBias, maeWithoutDecadeBias, signedErrorByDecade } from 'agegender/eval';

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

const aaf = await pairs(aafCsv);
const utk = await pairs(utkCsv);
const actual = aaf.map((x) => x.age);
const predicted = aaf.map((x) => x.pred);
// the library's by-decade figures (src/eval/photos.ts), as `evaluate --photos --reference` computes them
const aafByDecade = signedErrorByDecade(actual, predicted);
const utkByDecade = signedErrorByDecade(utk.map((x) => x.age), utk.map((x) => x.pred));
const bias = decadeBias(actual, predicted, DECADE_BIAS_MIN_FACES, utkByDecade)!;
const adults = new Set(['30-39', '40-49', '50-59']);
const adultsOnly = maeWithoutDecadeBias(actual, predicted, aafByDecade.map((d) => (adults.has(d.decade) ? d : { ...d, meanError: 0 })))!;
const mae = (xs: ReadonlyArray<{ age: number; pred: number }>): number => xs.reduce((s, x) => s + Math.abs(x.pred - x.age), 0) / xs.length;

// a correction that needs no label: mean (label − prediction) in 5-year bins of the predicted age, fitted on the other half
const binMeans = (xs: ReadonlyArray<{ age: number; pred: number }>): Map<number, number> => {
  const sums = new Map<number, { s: number; n: number }>();
  for (const x of xs) { const k = Math.floor(x.pred / 5); const e = sums.get(k) ?? { s: 0, n: 0 }; e.s += x.age - x.pred; e.n++; sums.set(k, e); }
  return new Map([...sums].map(([k, { s, n }]) => [k, s / n]));
};
let crossFitted = 0;
const SPLITS = 20;
for (let rep = 0; rep < SPLITS; rep++) {
  const order = shuffleInPlace([...aaf.keys()], mulberry32(rep + 1));
  const halves = [order.slice(0, order.length >> 1), order.slice(order.length >> 1)];
  let sum = 0;
  for (const [fit, score] of [[halves[0]!, halves[1]!], [halves[1]!, halves[0]!]] as const) {
    const bins = binMeans(fit.map((i) => aaf[i]!));
    for (const i of score) { const x = aaf[i]!; sum += Math.abs(x.pred + (bins.get(Math.floor(x.pred / 5)) ?? 0) - x.age); }
  }
  crossFitted += sum / aaf.length / SPLITS;
}

// each AAF face weighted by UTKFace test's MAE in its decade: UTKFace at AAF's age mix
const utkMae = new Map(utkByDecade.map((d) => [d.decade, d.mae ?? 0]));
const utkAtAafMix = aafByDecade.reduce((s, d) => s + d.count * (utkMae.get(d.decade) ?? 0), 0) / aaf.length;

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(2));
console.log(`AAF: ${aaf.length} faces; UTKFace: ${utk.length} chips\n`);
console.log('| decade | AAF mean error | UTKFace mean error | AAF − UTKFace |\n|---|---|---|---|');
utkByDecade.forEach((u, i) => {
  const a = aafByDecade[i]!;
  if (a.count > 0) console.log(`| ${a.decade} | ${fmt(a.meanError)} | ${fmt(u.meanError)} (${u.count}) | ${a.meanError === null || u.meanError === null ? '–' : (a.meanError - u.meanError).toFixed(2)} |`);
});
console.log('\n| what is removed | AAF MAE |\n|---|---|');
console.log(`| nothing | ${mae(aaf).toFixed(3)} |`);
console.log(`| AAF's own mean error in each decade (oracle; decades of ≥ ${bias.minFaces} faces: ${bias.faces} faces) | ${bias.maeWithout.toFixed(3)} |`);
console.log(`| only AAF − UTKFace in each decade (oracle) | ${bias.maeWithoutExcess!.toFixed(3)} |`);
console.log(`| AAF's mean error of 30–59 only (oracle) | ${adultsOnly.toFixed(3)} |`);
console.log(`| a correction by predicted age, fitted on the other half of AAF (2-fold, ${SPLITS} splits) | ${crossFitted.toFixed(3)} |`);
console.log(`\nUTKFace test MAE ${mae(utk).toFixed(3)}; reweighted to AAF's age mix ${utkAtAafMix.toFixed(3)}`);
