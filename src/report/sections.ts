/**
 * The report's sections, one function each: what a section shows and from which inputs. Each
 * returns a `[id, title, body HTML]` triple; `buildReport` puts them in order under one page.
 */
import { ETHNICITIES, GENDERS, SPLITS, type ManifestRow } from '../core/types.js';
import { reasonOf } from '../core/errors.js';
import { percent } from '../core/format.js';
import { mulberry32, shuffleInPlace } from '../core/random.js';
import { EVALUATE_DEFAULTS, type EvaluationResult, type SampleRef } from '../eval/evaluate.js';
import type { SlicingResult } from '../eval/slices.js';
import { hammingHex } from '../data/phash.js';
import { prepareChip } from '../explain/input.js';
import { lime } from '../explain/lime.js';
import { explanationPng } from '../explain/overlay.js';
import type { AgeGenderModel } from '../model/api.js';
import type { SummaryFile } from '../workspace/summary.js';
import { WORKSPACE_FILES } from '../workspace/layout.js';
import { fmt, type ChartDef } from './charts.js';
import { duplicatePairs, keptRows, type EdaStats } from './eda.js';
import { esc, gallery, table, type Thumbnails, type Tile } from './html.js';

/** One section of the page: anchor id, heading, body HTML. */
export type Section = [id: string, title: string, body: string];

/** The charts of a report rendered to SVG, and how each is placed on the page. */
export interface RenderedCharts {
  eda: ChartDef[];
  training: ChartDef | null;
  evaluation: ChartDef[];
  /** The gender accuracy–coverage chart. */
  abstention: ChartDef[];
  /** Every chart, in page order. */
  all: ChartDef[];
  /** `<figure>`s of these charts (each with its title, caption and inline SVG). */
  figures(defs: readonly ChartDef[]): string;
}

function sampleCaption(s: SampleRef, task: 'age' | 'gender'): string {
  const g = s.gender === 'female' ? 'F' : 'M';
  if (task === 'age') return `${s.age}→${s.predictedAge.toFixed(0)} · ${g} · ${s.ethnicity}`;
  return `${g} · P(F)=${s.femaleProbability.toFixed(2)} · ${s.age} · ${s.ethnicity}`;
}

/** EDA: the distribution charts, then a seeded sample of faces per ethnicity × gender slice. */
export async function edaSection(eda: EdaStats, charts: RenderedCharts, rows: readonly ManifestRow[], thumbs: Thumbnails, perSlice: number): Promise<Section> {
  const kept = keptRows(rows);
  const galleries: string[] = [];
  for (const e of ETHNICITIES)
    for (const g of GENDERS) {
      const group = kept.filter((r) => r.ethnicity === e && r.gender === g);
      const picks = shuffleInPlace([...group], mulberry32(17)).slice(0, perSlice);
      galleries.push(
        `<h4>${esc(e)} / ${esc(g)} <span class="muted">(${group.length} faces)</span></h4>` +
          (picks.length ? await gallery(thumbs, picks.map((r) => ({ source: r.source, caption: `${r.age} · ${r.split ?? ''}` }))) : '<p class="muted">no faces</p>'),
      );
    }
  const figures = charts.figures(charts.eda.filter((c) => !['cleaning-status', 'split-comparison'].includes(c.id)));
  return ['eda', 'Data: exploratory analysis', `<p>${eda.kept} kept, labelled faces in the workspace.</p>${figures}<h3>Sample faces per slice</h3>${galleries.join('')}`];
}

/**
 * The cleaning table: the summary's scalar fields in file order, then the split sizes, the leakage
 * audit and the label agreement measured by `prepare`.
 */
function summaryTableRows(summary: SummaryFile): string[][] {
  const rows = Object.entries(summary)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    .map(([k, v]) => [esc(k), esc(v)]);
  const split = summary.split;
  if (split) rows.push(['split (train / val / test)', `${SPLITS.map((k) => esc(split.counts[k])).join(' / ')} (largest group kept on one side: ${esc(split.largestGroup)} files)`]);
  const cross = summary.crossSplitNearPairs;
  if (cross) {
    const withinGroup = ` (${esc(cross.withinGroupDistance)} within the group distance ${esc(cross.groupDistance)}, where files are kept on one side)`;
    rows.push([`near pairs across splits (distance ≤ ${esc(cross.distance)})`, `${esc(cross.count)}${withinGroup}`]);
  }
  // label noise measured without a model: one image filed under separate records, labelled each time
  const agreement = summary.labelAgreement?.identicalBytes;
  if (agreement && agreement.pairs > 0) {
    rows.push([
      'label agreement between separate records of byte-identical images',
      `${agreement.pairs} record pairs: ages differ by more than 8 years in ${percent(agreement.ageDifferenceOver8)}, by more than 16 in ${percent(agreement.ageDifferenceOver16)}; genders differ in ${percent(agreement.genderDisagree)} — label noise, measured without a model`,
    ]);
  }
  return rows;
}

/**
 * The `count` near-duplicate pairs of the manifest (a dropped file and the file it duplicates) farthest
 * apart in pHash distance, farthest first: where the threshold bites. summary.json records only the
 * closest pairs, usually all at distance 0.
 */
export function farthestNearPairs(rows: readonly ManifestRow[], count: number): Array<{ a: string; b: string; distance: number }> {
  const bySource = new Map(rows.map((r) => [r.source, r]));
  const pairs: Array<{ a: string; b: string; distance: number }> = [];
  for (const r of rows) {
    const kept = r.status === 'duplicate-near' && r.duplicateOf ? bySource.get(r.duplicateOf) : undefined;
    if (!kept?.phash || !r.phash || kept.phash.length !== r.phash.length) continue;
    pairs.push({ a: kept.source, b: r.source, distance: hammingHex(kept.phash, r.phash) });
  }
  return pairs.sort((x, y) => y.distance - x.distance || x.b.localeCompare(y.b)).slice(0, count);
}

/** Example pairs: from summary.json when prepare recorded them (plus conflicts from the manifest), else from the manifest. */
async function examplePairs(rows: readonly ManifestRow[], summary: SummaryFile | null, thumbs: Thumbnails): Promise<string[]> {
  const pairHtml: string[] = [];
  const bySource = new Map(rows.map((r) => [r.source, r]));
  const label = (source: string): string => {
    const r = bySource.get(source);
    return r ? `${r.age ?? '?'}/${r.gender ?? '?'}/${r.ethnicity ?? '?'} · ${r.status}` : source.split('/').pop()!.slice(0, 24);
  };
  // the closest pairs are usually re-encodes; the farthest still-flagged ones show where the threshold bites
  const byDistance = [...(summary?.examplePairs ?? [])].sort((x, y) => x.distance - y.distance);
  const farthest = farthestNearPairs(rows, 5);
  const recorded = byDistance.length <= 8 ? byDistance : [...byDistance.slice(0, 3), ...(farthest.length ? farthest : byDistance.slice(-5))];
  for (const p of recorded) {
    const tiles: Tile[] = [
      { source: p.a, caption: label(p.a) },
      { source: p.b, caption: label(p.b) },
    ];
    pairHtml.push(`<div class="pair">${await gallery(thumbs, tiles)}<div class="muted">pHash distance ${esc(p.distance)}</div></div>`);
  }
  const fromManifest = duplicatePairs(rows, 8).filter((p) => !recorded.length || p.status === 'conflict').slice(0, recorded.length ? 4 : 8);
  for (const p of fromManifest) {
    const tiles: Tile[] = [{ source: p.a.source, caption: label(p.a.source) }];
    if (p.b) tiles.push({ source: p.b.source, caption: label(p.b.source) });
    pairHtml.push(`<div class="pair">${await gallery(thumbs, tiles)}<div class="muted">${esc(p.reason)}</div></div>`);
  }
  return pairHtml;
}

/** Cleaning: the status chart, the summary table and example near-duplicate / conflicting pairs. */
export async function cleaningSection(rows: readonly ManifestRow[], summary: SummaryFile | null, charts: RenderedCharts, thumbs: Thumbnails): Promise<Section> {
  const pairHtml = await examplePairs(rows, summary, thumbs);
  const summaryRows = summary ? summaryTableRows(summary) : [];
  return [
    'cleaning',
    'Cleaning summary',
    `${charts.figures(charts.eda.filter((c) => c.id === 'cleaning-status'))}${summaryRows.length ? table([WORKSPACE_FILES.summary, 'value'], summaryRows, 'kv') : ''}<h3>Example near-duplicate and conflicting pairs</h3>${pairHtml.join('') || '<p class="muted">No duplicates recorded in the manifest.</p>'}`,
  ];
}

/** Splits: size, mean age, female share and ethnicity shares per split, and the comparison chart. */
export function splitsSection(eda: EdaStats, charts: RenderedCharts): Section {
  return [
    'splits',
    'Split comparison',
    table(
      ['split', 'faces', 'mean age', 'female share', ...ETHNICITIES],
      eda.splits.map((s) => [esc(s.split), String(s.count), fmt(s.meanAge, 1), fmt(s.female), ...ETHNICITIES.map((e) => fmt(s.ethnicity[e]))]),
    ) + charts.figures(charts.eda.filter((c) => c.id === 'split-comparison')),
  ];
}

export function trainingSection(charts: RenderedCharts): Section {
  return [
    'training',
    'Training curves',
    charts.training
      ? charts.figures([charts.training])
      : '<p class="muted">The model folder has no training log (a metrics JSONL or <code>training.history</code> in its metadata), so there are no curves to show.</p>',
  ];
}

/** Evaluation: counts, the headline metrics with their 95% intervals, and the evaluation charts. */
export function evaluationSection(ev: EvaluationResult, charts: RenderedCharts): Section {
  const ci = (v: { low: number; high: number } | null | undefined, d = 3): string => (v ? `${fmt(v.low, d)}–${fmt(v.high, d)}` : 'n/a');
  const metrics = [
    ['age MAE (years)', fmt(ev.age.mae, 2), ci(ev.ci.mae, 2)],
    ['age RMSE (years)', fmt(ev.age.rmse, 2), ci(ev.ci.rmse, 2)],
    ['mean error (years)', fmt(ev.age.meanError, 2), ''],
    ['within ±8 years', fmt(ev.age.within8), ci(ev.ci.within8)],
    ['CS@5', fmt(ev.age.cs['5']), ''],
    ['gender accuracy', fmt(ev.gender.accuracy), ci(ev.ci.accuracy)],
    ['precision (female)', fmt(ev.gender.precision), ''],
    ['recall (female)', fmt(ev.gender.recall), ''],
    ['F1 (female)', fmt(ev.gender.f1), ci(ev.ci.f1)],
    ['ROC-AUC', fmt(ev.gender.rocAuc), ci(ev.ci.rocAuc)],
    ['ECE of P(female)', fmt(ev.gender.ece), ci(ev.ci.ece)],
  ].map((r) => r.map((c, i) => (i === 0 ? esc(c) : c)));
  const skipped = ev.skipped.length ? ` (${ev.skipped.slice(0, 5).map((s) => `${esc(s.source)}: ${esc(s.reason)}`).join('; ')})` : '';
  return [
    'evaluation',
    `Evaluation on the ${esc(ev.split)} split`,
    `<p>${ev.counts.evaluated} faces evaluated, ${ev.counts.skipped} skipped${skipped}.</p>` + table(['metric', 'value', '95% CI'], metrics) + charts.figures(charts.evaluation),
  ];
}

function slicingTable(s: SlicingResult): string {
  const ci = (v: { low: number; high: number } | null | undefined, d = 2): string => (v ? `${fmt(v.low, d)}–${fmt(v.high, d)}` : 'n/a');
  const minGroupSize = s.minGroupSize ?? EVALUATE_DEFAULTS.minGroupSize;
  const few = s.groups.some((g) => g.count < minGroupSize);
  const rows = s.groups.map((g) => [
    esc(g.name),
    g.count < minGroupSize ? `${g.count} <span title="fewer than ${minGroupSize} faces">(few)</span>` : String(g.count),
    fmt(g.age.mae, 2),
    ci(g.ci.mae),
    fmt(g.age.meanError, 2),
    fmt(g.age.within8),
    fmt(g.gender.accuracy),
    ci(g.ci.accuracy, 3),
    fmt(g.gender.f1),
    fmt(g.gender.rocAuc),
    fmt(g.gender.ece),
  ]);
  rows.push(['<b>total</b>', `<b>${s.total}</b>`, '', '', '', '', '', '', '', '', '']);
  const gaps = s.gaps
    .filter((g) => g.best && g.worst)
    .map((g) => `${esc(g.metric)}: best ${esc(g.best!.name)} ${fmt(g.best!.value)}, worst ${esc(g.worst!.name)} ${fmt(g.worst!.value)}, gap <b>${fmt(g.gap)}</b>`)
    .join('<br>');
  return (
    table(['group', 'n', 'MAE', 'MAE 95% CI', 'mean error', '±8', 'gender acc.', 'acc. 95% CI', 'F1 (female)', 'ROC-AUC', 'ECE'], rows, 'slices') +
    `<p class="muted">${few ? `(few): fewer than ${minGroupSize} faces, too few for its figures to say much; never named best or worst.<br>` : ''}Best − worst (groups with ≥ ${minGroupSize} faces):<br>${gaps || 'no group large enough'}</p>`
  );
}

/** Slices: one table per slicing; the one-dimensional ones and ethnicity × gender open, the rest folded. */
export function slicesSection(ev: EvaluationResult): Section {
  const body = ev.slices
    .map((s) =>
      s.dimensions.length === 1 || s.name === 'ethnicity × gender'
        ? `<h3>${esc(s.name)}</h3>${slicingTable(s)}`
        : `<details><summary>${esc(s.name)} (${s.groups.length} groups)</summary>${slicingTable(s)}</details>`,
    )
    .join('');
  return ['slices', 'Metrics by slice', body];
}

/** Best and worst: galleries of the worst and best age predictions and gender mistakes. */
export async function bestWorstSection(ev: EvaluationResult, thumbs: Thumbnails): Promise<Section> {
  const bw = ev.bestWorst;
  const tiles = (samples: readonly SampleRef[], task: 'age' | 'gender', tone: 'good' | 'bad'): Tile[] => samples.map((s) => ({ source: s.source, caption: sampleCaption(s, task), tone }));
  const ageWorst = await gallery(thumbs, tiles(bw.age.worst, 'age', 'bad'));
  const ageBest = await gallery(thumbs, tiles(bw.age.best, 'age', 'good'));
  const genderWorst = await gallery(thumbs, tiles(bw.gender.worst, 'gender', 'bad'));
  const genderBest = await gallery(thumbs, tiles(bw.gender.best, 'gender', 'good'));
  return [
    'best-worst',
    'Best and worst predictions',
    `<h3>Worst age errors</h3>${ageWorst}<h3>Best age predictions</h3>${ageBest}<h3>Most confident gender mistakes</h3>${genderWorst}<h3>Most confident correct gender predictions</h3>${genderBest}<p class="muted">Captions: annotated→predicted age · gender label · ethnicity label. Look for label noise: several "worst errors" may be wrongly annotated.</p>`,
  ];
}

/** One LIME panel (seed 1) for a badly predicted face, or a line saying why it could not be explained. */
async function limePanel(model: AgeGenderModel, s: SampleRef, samples: number, readBytes: (source: string) => Promise<Uint8Array>): Promise<string> {
  try {
    const chip = await prepareChip(await readBytes(s.source), s.name);
    const ex = await lime(model, chip, { task: 'age', samples, seed: 1 });
    const png = await explanationPng(chip, ex);
    const direction = s.predictedAge < s.age ? 'under-estimated' : 'over-estimated';
    return `<figure class="lime"><img src="data:image/png;base64,${png.toString('base64')}" alt="Left, the face chip; right, the same chip dimmed except its ${ex.top.length} most influential superpixels, tinted blue or orange and outlined" width="404" height="200"><figcaption>${esc(s.name)}: annotated ${s.age}, predicted ${s.predictedAge.toFixed(1)} (${direction} by ${Math.abs(s.predictedAge - s.age).toFixed(1)} years) · ${ex.samples} samples, ${ex.segmentation.count} superpixels, local R² ${fmt(ex.r2)}. Blue: regions that raise the predicted age; orange: regions that lower it.</figcaption></figure>`;
  } catch (error) {
    return `<p class="warn">${esc(s.name)}: could not explain (${esc(reasonOf(error))})</p>`;
  }
}

/** LIME: panels for the `count` worst age errors (none without a model or with count 0, saying which). */
export async function limeSection(ev: EvaluationResult, model: AgeGenderModel | undefined, count: number, samples: number, readBytes: (source: string) => Promise<Uint8Array>): Promise<Section> {
  const panels: string[] = [];
  if (model && count > 0) {
    for (const s of ev.bestWorst.age.worst.slice(0, count)) panels.push(await limePanel(model, s, samples, readBytes));
  }
  return [
    'lime',
    'LIME explanations of the worst age errors',
    panels.length
      ? `<p>Each panel: the input chip, then the top-5 superpixels by |weight| (SLIC superpixels, hidden ones filled with the mean colour, weighted ridge regression).</p>${panels.join('')}`
      : model
        ? '<p class="muted">LIME panels were turned off (<code>--lime 0</code>).</p>'
        : '<p class="muted">No model was given to the report builder, so no LIME panels were computed.</p>',
  ];
}
