// How far can CS@8 go against UTKFace's labels? Fits a label-noise model to the images that the data
// set files under two separate records (labelled twice), then says what a perfect model would score
// and what a model must achieve to reach a target CS@8. No model is run; an evaluation is only read.
//   node --conditions=agegender-source --import tsx experiments/label-noise-ceiling.ts <workspace> <evaluation.json> [--source-contains /UTKFace/] [--target 0.88]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { percent as pct } from 'agegender/core';
import { readManifest } from 'agegender/workspace';
import { labelAgreement } from 'agegender/data';
import {
  errorScaleForCumulativeScore,
  expectedCumulativeScore,
  expectedMae,
  fitLabelNoise,
  pairStatistics,
  type LabelNoiseModel,
} from 'agegender/eval';

const { values, positionals } = parseArgs({ options: { 'source-contains': { type: 'string' }, target: { type: 'string', default: '0.88' } }, allowPositionals: true });
const [workspace, evaluationPath] = positionals;
if (!workspace || !evaluationPath) throw new Error('usage: label-noise-ceiling <workspace> <evaluation.json> [--source-contains TEXT] [--target 0.88]');
const only = values['source-contains'];
const target = Number(values.target);
const K = 8;

const rows = (await readManifest(workspace)).filter((r) => only === undefined || r.source.includes(only));
const agreement = labelAgreement(rows);
const evaluation = JSON.parse(await readFile(evaluationPath, 'utf8')) as { split: string; age: { mae: number; within8: number; count: number } };
const observed = { equal: agreement.ageEqual, over: agreement.ageDifferenceOver8 };

console.log(`records: ${rows.length} manifest rows${only ? ` whose source contains ${only}` : ''}`);
console.log(
  `byte-identical images under two records: ${agreement.pairs} pairs (${agreement.images} images); ages equal ${pct(agreement.ageEqual)}, ` +
    `> 8 apart ${pct(agreement.ageDifferenceOver8)}, > 16 apart ${pct(agreement.ageDifferenceOver16)}; mean |difference| ${agreement.meanAbsAgeDifference.toFixed(2)}; genders differ ${pct(agreement.genderDisagree)}`,
);
console.log(`model scored: ${evaluationPath} (${evaluation.split}, ${evaluation.age.count} faces): MAE ${evaluation.age.mae.toFixed(3)}, CS@8 ${pct(evaluation.age.within8)}\n`);

const report = (name: string, noise: LabelNoiseModel): void => {
  const fit = pairStatistics(noise, K);
  const now = errorScaleForCumulativeScore(noise, evaluation.age.within8, K);
  const ceiling = expectedCumulativeScore(noise, 1e-9, K);
  console.log(`${name}: ${pct(1 - noise.exact)} of records carry an age error, Laplace scale ${noise.scale.toFixed(2)} years`);
  console.log(`  reproduces: pairs equal ${pct(fit.equal)}, > 8 apart ${pct(fit.over)}, > 16 apart ${pct(pairStatistics(noise, 16).over)} (observed ${pct(observed.equal)}, ${pct(observed.over)}, ${pct(agreement.ageDifferenceOver16)})`);
  console.log(`  a perfect model (its error 0 against the true age) scores CS@8 ${pct(ceiling)} against these labels`);
  console.log(`  the scored model: own error scale ${now.toFixed(2)} years (predicted MAE against the labels ${expectedMae(noise, now).toFixed(2)}, measured ${evaluation.age.mae.toFixed(2)})`);
  if (target >= ceiling) {
    console.log(`  CS@8 ${pct(target)}: above the ceiling, out of reach for any model`);
    return;
  }
  const needed = errorScaleForCumulativeScore(noise, target, K);
  console.log(
    `  CS@8 ${pct(target)} needs an own error scale of ${needed.toFixed(2)} years (${pct(1 - needed / now)} less than now), i.e. an MAE against the labels of about ${expectedMae(noise, needed).toFixed(2)}`,
  );
};
report('spike + Laplace (fits equal and > 8 apart)', fitLabelNoise(observed, K));
report('Laplace on every record (fits > 8 apart only)', fitLabelNoise(observed, K, { exact: 0 }));
