import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ETHNICITIES, GENDERS, SPLITS, type ManifestRow } from '../core/types.js';
import { mulberry32, shuffleInPlace } from '../core/random.js';
import { reasonOf } from '../core/errors.js';
import { readSourceBytes } from '../data/sources.js';
import type { AgeGenderModel, ModelMetadata } from '../model/api.js';
import type { EvaluationResult, PredictionRecord, SampleRef } from '../eval/evaluate.js';
import type { SlicingResult } from '../eval/slices.js';
import { prepareChip } from '../explain/input.js';
import { lime } from '../explain/lime.js';
import { explanationPng } from '../explain/overlay.js';
import { duplicatePairs, edaStats, keptRows } from './eda.js';
import { edaCharts, evaluationCharts, fmt, trainingChart, type ChartDef } from './charts.js';
import { esc, gallery, REPORT_CSS, table, Thumbnails, type Tile } from './html.js';
import { modelCardHtml } from './model-card.js';
import { percent } from '../core/format.js';
import { renderSvg } from './vega.js';
import type { SummaryFile } from '../workspace/summary.js';

export interface ReportInput {
  rows: readonly ManifestRow[];
  /** `summary.json` as read by `readSummary` (null: the workspace has none). */
  summary: SummaryFile | null;
  evaluation: EvaluationResult;
  records: readonly PredictionRecord[];
  metadata: ModelMetadata;
  /** Training log entries (one object per epoch), when the model folder has one. */
  trainingLog: ReadonlyArray<Record<string, unknown>> | null;
  /** For the LIME panels; without it the panels are skipped (and the report says so). */
  model?: AgeGenderModel;
  /** Worst age errors explained with LIME (default 3). */
  limeCount?: number;
  /** LIME samples per panel (default 500). */
  limeSamples?: number;
  /** Faces per slice gallery (default 6). */
  galleryPerSlice?: number;
  readBytes?: (source: string) => Promise<Uint8Array>;
  now?: () => Date;
}

export const REPORT_DEFAULTS = Object.freeze({ limeCount: 3, limeSamples: 300, galleryPerSlice: 6 });

export interface BuiltReport {
  html: string;
  /** Number of charts (each is one inline <svg>). */
  charts: number;
  chartIds: string[];
}

/** The per-epoch history recorded in a model's metadata (`training.history`), else null. */
export function historyFromMetadata(metadata: ModelMetadata): Array<Record<string, unknown>> | null {
  const training = metadata.training as { history?: unknown } | undefined;
  const history = training?.history;
  if (!Array.isArray(history)) return null;
  const entries = history.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e)).map((e) => flatten(e));
  return entries.length ? entries : null;
}

/** Finds and parses a training log (JSONL, one object per epoch) in a model folder, else null. */
export async function readTrainingLog(modelDir: string): Promise<Array<Record<string, unknown>> | null> {
  let names: string[];
  try {
    names = await readdir(modelDir);
  } catch {
    return null;
  }
  const preferred = ['metrics.jsonl', 'training-log.jsonl', 'history.jsonl', 'log.jsonl'];
  const name = preferred.find((n) => names.includes(n)) ?? names.filter((n) => n.endsWith('.jsonl')).sort()[0];
  if (!name) return null;
  const out: Array<Record<string, unknown>> = [];
  for (const line of (await readFile(join(modelDir, name), 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(flatten(v as Record<string, unknown>));
    } catch {
      // a torn last line from an interrupted run: skip it
    }
  }
  return out.length ? out : null;
}

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

function sampleCaption(s: SampleRef, task: 'age' | 'gender'): string {
  const g = s.gender === 'female' ? 'F' : 'M';
  if (task === 'age') return `${s.age}→${s.predictedAge.toFixed(0)} · ${g} · ${s.ethnicity}`;
  return `${g} · P(F)=${s.femaleProbability.toFixed(2)} · ${s.age} · ${s.ethnicity}`;
}

function slicingTable(s: SlicingResult): string {
  const ci = (v: { low: number; high: number } | null | undefined, d = 2): string => (v ? `${fmt(v.low, d)}–${fmt(v.high, d)}` : 'n/a');
  const rows = s.groups.map((g) => [
    esc(g.name),
    String(g.count),
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
    `<p class="muted">Best − worst (groups with ≥ 20 faces):<br>${gaps || 'no group large enough'}</p>`
  );
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
 * Builds the self-contained HTML report: EDA, cleaning summary, split comparison, training curves,
 * evaluation charts and slice tables with intervals, best/worst galleries, LIME panels and the model
 * card. Charts are Vega-Lite specs rendered to inline SVG in Node; thumbnails are data URIs.
 * @example const { html, charts } = await buildReport({ rows, summary, evaluation, records, metadata, trainingLog: null });
 */
export async function buildReport(input: ReportInput): Promise<BuiltReport> {
  const now = (input.now ?? (() => new Date()))();
  const thumbs = new Thumbnails(80, input.readBytes ?? readSourceBytes);
  const ev = input.evaluation;
  const eda = edaStats(input.rows);

  const edaDefs = edaCharts(eda);
  const log = input.trainingLog ?? historyFromMetadata(input.metadata);
  const training = log ? trainingChart(log) : null;
  const evalDefs = evaluationCharts(ev, input.records);
  const all: ChartDef[] = [...edaDefs, ...(training ? [training] : []), ...evalDefs];
  const svgs = new Map<string, string>();
  for (const c of all) svgs.set(c.id, await renderSvg(c.spec));
  const chart = (c: ChartDef): string =>
    `<figure class="chart" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}"><figcaption><b>${esc(c.title)}</b>${esc(c.caption)}</figcaption>${svgs.get(c.id)!}</figure>`;

  // sample galleries per ethnicity × gender slice (seeded)
  const kept = keptRows(input.rows);
  const perSlice = input.galleryPerSlice ?? REPORT_DEFAULTS.galleryPerSlice;
  const sliceGalleries: string[] = [];
  for (const e of ETHNICITIES)
    for (const g of GENDERS) {
      const group = kept.filter((r) => r.ethnicity === e && r.gender === g);
      const picks = shuffleInPlace([...group], mulberry32(17)).slice(0, perSlice);
      sliceGalleries.push(
        `<h4>${esc(e)} / ${esc(g)} <span class="muted">(${group.length} faces)</span></h4>` +
          (picks.length ? await gallery(thumbs, picks.map((r) => ({ source: r.source, caption: `${r.age} · ${r.split ?? ''}` }))) : '<p class="muted">no faces</p>'),
      );
    }

  // cleaning: example near-duplicate pairs (from summary.json when prepare recorded them, else the manifest)
  const pairHtml: string[] = [];
  const bySource = new Map(input.rows.map((r) => [r.source, r]));
  const label = (source: string): string => {
    const r = bySource.get(source);
    return r ? `${r.age ?? '?'}/${r.gender ?? '?'}/${r.ethnicity ?? '?'} · ${r.status}` : source.split('/').pop()!.slice(0, 24);
  };
  // the closest pairs are usually re-encodes; the farthest still-flagged ones show where the threshold bites
  const byDistance = [...(input.summary?.examplePairs ?? [])].sort((x, y) => x.distance - y.distance);
  const summaryPairs = byDistance.length <= 8 ? byDistance : [...byDistance.slice(0, 3), ...byDistance.slice(-5)];
  if (summaryPairs.length) {
    for (const p of summaryPairs) {
      const tiles: Tile[] = [
        { source: p.a, caption: label(p.a) },
        { source: p.b, caption: label(p.b) },
      ];
      pairHtml.push(`<div class="pair">${await gallery(thumbs, tiles)}<div class="muted">pHash distance ${esc(p.distance)}</div></div>`);
    }
  }
  {
    const fromManifest = duplicatePairs(input.rows, 8).filter((p) => !summaryPairs.length || p.status === 'conflict').slice(0, summaryPairs.length ? 4 : 8);
    for (const p of fromManifest) {
      const tiles: Tile[] = [{ source: p.a.source, caption: label(p.a.source) }];
      if (p.b) tiles.push({ source: p.b.source, caption: label(p.b.source) });
      pairHtml.push(`<div class="pair">${await gallery(thumbs, tiles)}<div class="muted">${esc(p.reason)}</div></div>`);
    }
  }
  const recordedAgreement = input.summary?.labelAgreement?.identicalBytes ?? null;
  const summaryRows = input.summary ? summaryTableRows(input.summary) : [];

  // best / worst galleries
  const bw = ev.bestWorst;
  const galleries = {
    ageWorst: await gallery(thumbs, bw.age.worst.map((s) => ({ source: s.source, caption: sampleCaption(s, 'age'), tone: 'bad' as const }))),
    ageBest: await gallery(thumbs, bw.age.best.map((s) => ({ source: s.source, caption: sampleCaption(s, 'age'), tone: 'good' as const }))),
    genderWorst: await gallery(thumbs, bw.gender.worst.map((s) => ({ source: s.source, caption: sampleCaption(s, 'gender'), tone: 'bad' as const }))),
    genderBest: await gallery(thumbs, bw.gender.best.map((s) => ({ source: s.source, caption: sampleCaption(s, 'gender'), tone: 'good' as const }))),
  };

  // LIME panels for the worst age errors
  const limeCount = input.limeCount ?? REPORT_DEFAULTS.limeCount;
  const limePanels: string[] = [];
  if (input.model && limeCount > 0) {
    for (const s of bw.age.worst.slice(0, limeCount)) {
      try {
        const chip = await prepareChip(await (input.readBytes ?? readSourceBytes)(s.source), s.name);
        const ex = await lime(input.model, chip, { task: 'age', samples: input.limeSamples ?? REPORT_DEFAULTS.limeSamples, seed: 1 });
        const png = await explanationPng(chip, ex);
        const direction = s.predictedAge < s.age ? 'under-estimated' : 'over-estimated';
        limePanels.push(
          `<figure class="lime"><img src="data:image/png;base64,${png.toString('base64')}" alt="LIME for ${esc(s.name)}" width="404" height="200"><figcaption>${esc(s.name)}: annotated ${s.age}, predicted ${s.predictedAge.toFixed(1)} (${direction} by ${Math.abs(s.predictedAge - s.age).toFixed(1)} years) · ${ex.samples} samples, ${ex.segmentation.count} superpixels, local R² ${fmt(ex.r2)}. Green: regions that raise the predicted age; red: regions that lower it.</figcaption></figure>`,
        );
      } catch (error) {
        limePanels.push(`<p class="warn">${esc(s.name)}: could not explain (${esc(reasonOf(error))})</p>`);
      }
    }
  }

  const charts = (ids: readonly ChartDef[]): string => ids.map(chart).join('\n');
  const sections: Array<[string, string, string]> = [
    ['eda', 'Data: exploratory analysis', `<p>${eda.kept} kept, labelled faces in the workspace.</p>${charts(edaDefs.filter((c) => !['cleaning-status', 'split-comparison'].includes(c.id)))}<h3>Sample faces per slice</h3>${sliceGalleries.join('')}`],
    [
      'cleaning',
      'Cleaning summary',
      `${charts(edaDefs.filter((c) => c.id === 'cleaning-status'))}${summaryRows.length ? table(['summary.json', 'value'], summaryRows) : ''}<h3>Example near-duplicate and conflicting pairs</h3>${pairHtml.join('') || '<p class="muted">No duplicates recorded in the manifest.</p>'}`,
    ],
    [
      'splits',
      'Split comparison',
      table(
        ['split', 'faces', 'mean age', 'female share', ...ETHNICITIES],
        eda.splits.map((s) => [esc(s.split), String(s.count), fmt(s.meanAge, 1), fmt(s.female), ...ETHNICITIES.map((e) => fmt(s.ethnicity[e]))]),
      ) + charts(edaDefs.filter((c) => c.id === 'split-comparison')),
    ],
    ['training', 'Training curves', training ? chart(training) : '<p class="muted">The model folder has no training log (a metrics JSONL or <code>training.history</code> in its metadata), so there are no curves to show.</p>'],
    [
      'evaluation',
      `Evaluation on the ${esc(ev.split)} split`,
      `<p>${ev.counts.evaluated} faces evaluated, ${ev.counts.skipped} skipped${ev.skipped.length ? ` (${ev.skipped.slice(0, 5).map((s) => `${esc(s.source)}: ${esc(s.reason)}`).join('; ')})` : ''}.</p>` +
        table(
          ['metric', 'value', '95% CI'],
          [
            ['age MAE (years)', fmt(ev.age.mae, 2), ev.ci.mae ? `${fmt(ev.ci.mae.low, 2)}–${fmt(ev.ci.mae.high, 2)}` : 'n/a'],
            ['age RMSE (years)', fmt(ev.age.rmse, 2), ev.ci.rmse ? `${fmt(ev.ci.rmse.low, 2)}–${fmt(ev.ci.rmse.high, 2)}` : 'n/a'],
            ['mean error (years)', fmt(ev.age.meanError, 2), ''],
            ['within ±8 years', fmt(ev.age.within8), ev.ci.within8 ? `${fmt(ev.ci.within8.low)}–${fmt(ev.ci.within8.high)}` : 'n/a'],
            ['CS@5', fmt(ev.age.cs['5']), ''],
            ['gender accuracy', fmt(ev.gender.accuracy), ev.ci.accuracy ? `${fmt(ev.ci.accuracy.low)}–${fmt(ev.ci.accuracy.high)}` : 'n/a'],
            ['precision (female)', fmt(ev.gender.precision), ''],
            ['recall (female)', fmt(ev.gender.recall), ''],
            ['F1 (female)', fmt(ev.gender.f1), ev.ci.f1 ? `${fmt(ev.ci.f1.low)}–${fmt(ev.ci.f1.high)}` : 'n/a'],
            ['ROC-AUC', fmt(ev.gender.rocAuc), ev.ci.rocAuc ? `${fmt(ev.ci.rocAuc.low)}–${fmt(ev.ci.rocAuc.high)}` : 'n/a'],
            ['ECE of P(female)', fmt(ev.gender.ece), ev.ci.ece ? `${fmt(ev.ci.ece.low)}–${fmt(ev.ci.ece.high)}` : 'n/a'],
          ].map((r) => r.map((c, i) => (i === 0 ? esc(c) : c))),
        ) +
        charts(evalDefs),
    ],
    [
      'slices',
      'Metrics by slice',
      ev.slices
        .map((s) =>
          s.dimensions.length === 1 || s.name === 'ethnicity × gender'
            ? `<h3>${esc(s.name)}</h3>${slicingTable(s)}`
            : `<details><summary>${esc(s.name)} (${s.groups.length} groups)</summary>${slicingTable(s)}</details>`,
        )
        .join(''),
    ],
    [
      'best-worst',
      'Best and worst predictions',
      `<h3>Worst age errors</h3>${galleries.ageWorst}<h3>Best age predictions</h3>${galleries.ageBest}<h3>Most confident gender mistakes</h3>${galleries.genderWorst}<h3>Most confident correct gender predictions</h3>${galleries.genderBest}<p class="muted">Captions: annotated→predicted age · gender label · ethnicity label. Look for label noise: several "worst errors" may be wrongly annotated.</p>`,
    ],
    [
      'lime',
      'LIME explanations of the worst age errors',
      limePanels.length
        ? `<p>Each panel: the input chip, then the top-5 superpixels by |weight| (SLIC superpixels, hidden ones filled with the mean colour, weighted ridge regression).</p>${limePanels.join('')}`
        : input.model
          ? '<p class="muted">LIME panels were turned off (<code>--lime 0</code>).</p>'
          : '<p class="muted">No model was given to the report builder, so no LIME panels were computed.</p>',
    ],
    ['model-card', 'Model card', modelCardHtml({ metadata: input.metadata, evaluation: ev, statusCounts: eda.statusCounts, labelAgreement: recordedAgreement })],
  ];
  const nav = `<nav><ul>${sections.map(([id, title]) => `<li><a href="#${id}">${esc(title)}</a></li>`).join('')}</ul></nav>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="agegender-charts" content="${all.length}">
<title>agegender report — ${esc(input.metadata.name)} on ${esc(ev.split)}</title><style>${REPORT_CSS}</style></head>
<body><header><h1>agegender audit report</h1><p class="muted">Model <b>${esc(input.metadata.name)}</b> · split <b>${esc(ev.split)}</b> · generated ${esc(now.toISOString())} · <span id="chart-count">${all.length}</span> charts</p></header>
${nav}
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`).join('\n')}
</body></html>
`;
  return { html, charts: all.length, chartIds: all.map((c) => c.id) };
}
