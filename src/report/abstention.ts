/**
 * The report's gender-abstention part: the accuracy–coverage chart (overall and by age bucket) and
 * the section with the figures at the model's threshold. Evaluations written before abstention
 * existed get the summary recomputed from their predictions at the model folder's threshold.
 */
import { NO_ABSTENTION } from '../core/gender.js';
import { abstentionSummary, type AbstentionGroup, type AbstentionSummary, type CoveragePoint } from '../eval/abstention.js';
import type { EvaluationResult, PredictionRecord } from '../eval/evaluate.js';
import type { ModelMetadata } from '../model/api.js';
import type { ChartDef } from './charts.js';
import { esc, table } from './html.js';
import type { ChartSpec } from './vega.js';

/** The evaluation's abstention summary, or one computed from its records at the model's threshold. */
export function abstentionOf(ev: EvaluationResult, records: readonly PredictionRecord[], metadata: ModelMetadata): AbstentionSummary {
  const recorded = (metadata['inference'] as { genderThreshold?: unknown } | undefined)?.genderThreshold;
  return ev.abstention ?? abstentionSummary(records, typeof recorded === 'number' ? recorded : NO_ABSTENTION);
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);

/** Okabe–Ito blue (the age bucket's curve), mid grey (every age, for reference) and vermillion (the threshold's dot). */
const BUCKET_COLOUR = '#0072b2';
const ALL_COLOUR = '#999999';
const CHOSEN_COLOUR = '#d55e00';
const SERIES = { bucket: 'this age bucket', all: 'all ages' } as const;

/**
 * Accuracy on answered faces against coverage: one small panel per age bucket, each with that
 * bucket's curve, the curve of all ages (grey, dashed) for reference and a dot at the chosen
 * threshold. Ten lines in one plot could not be told apart; panels keep every bucket's curve shown.
 */
export function abstentionChart(s: AbstentionSummary): ChartDef {
  const drawable = (p: CoveragePoint): boolean => p.coverage !== null && p.accuracy !== null;
  const curveOf = (name: string): CoveragePoint[] => (s.curves.find((c) => c.group === name)?.points ?? []).filter(drawable);
  const panels = s.byAgeBucket.map((g) => ({ group: g, panel: `ages ${g.group} · ${g.count} faces` }));
  const values = panels.flatMap(({ group: g, panel }) => [
    ...curveOf('all').map((p) => ({ panel, series: SERIES.all, threshold: p.threshold, coverage: p.coverage, accuracy: p.accuracy })),
    ...curveOf(g.group).map((p) => ({ panel, series: SERIES.bucket, threshold: p.threshold, coverage: p.coverage, accuracy: p.accuracy })),
    ...(drawable(g) ? [{ panel, series: 'chosen', threshold: s.threshold, coverage: g.coverage, accuracy: g.accuracy }] : []),
  ]);
  const x = { field: 'coverage', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%', values: [0, 0.25, 0.5, 0.75, 1] }, title: 'coverage' };
  const y = { field: 'accuracy', type: 'quantitative', scale: { zero: false }, axis: { format: '%', tickCount: 5 }, title: 'accuracy (answered)' };
  return {
    id: 'gender-accuracy-coverage',
    title: 'Gender accuracy–coverage, by age bucket',
    caption:
      `Raising the gender threshold from 0.5 answers fewer faces (coverage) more accurately. One panel per age bucket: its curve in blue, all ages in grey (dashed) for reference; ` +
      `the orange dot is the model's threshold ${s.threshold}. Panels share their scales; the table above gives each bucket's figures.`,
    spec: {
      data: { values },
      facet: { field: 'panel', type: 'nominal', sort: panels.map((p) => p.panel), title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
      columns: 3,
      spec: {
        width: 180,
        height: 120,
        layer: [
          {
            transform: [{ filter: "datum.series !== 'chosen'" }],
            mark: { type: 'line', strokeWidth: 2 },
            encoding: {
              x,
              y,
              color: { field: 'series', type: 'nominal', scale: { domain: [SERIES.bucket, SERIES.all], range: [BUCKET_COLOUR, ALL_COLOUR] }, title: null },
              strokeDash: { field: 'series', type: 'nominal', scale: { domain: [SERIES.bucket, SERIES.all], range: [[1, 0], [4, 3]] }, title: null },
              order: { field: 'threshold', type: 'quantitative' },
            },
          },
          {
            transform: [{ filter: "datum.series === 'chosen'" }],
            mark: { type: 'point', filled: true, size: 60, color: CHOSEN_COLOUR, stroke: '#ffffff', strokeWidth: 1 },
            encoding: { x, y },
          },
        ],
      },
      // an x axis under every panel (as in the training curves)
      resolve: { axis: { x: 'independent' } },
      config: { legend: { orient: 'top' } },
    } as ChartSpec,
  };
}

function row(g: AbstentionGroup): string[] {
  return [esc(g.group), String(g.count), pct(g.coverage), pct(g.accuracy), pct(g.accuracyAll)];
}

/** The section body: what abstention is, the table at the threshold (overall, 0–9, by bucket) and the chart. */
export function abstentionSectionHtml(s: AbstentionSummary, split: string, figures: string): string {
  return (
    `<p>A face whose more likely gender label has a probability below <b>${s.threshold}</b> is answered <code>uncertain</code> (the probability is still returned). ` +
    `The threshold is the lowest that gives ≥ 97% accuracy on the answered <b>val</b> faces (chosen by <code>agegender tune</code>); here it is applied to ${esc(split)}. ` +
    `Overall ${pct(s.overall.coverage)} of faces are answered, at ${pct(s.overall.accuracy)} accuracy (${pct(s.overall.accuracyAll)} if every face were answered); ` +
    `ages 0–9: ${pct(s.children.coverage)} answered at ${pct(s.children.accuracy)} (${pct(s.children.accuracyAll)} on all).</p>` +
    table(['ages', 'faces', 'answered', 'accuracy (answered)', 'accuracy (all)'], [row(s.overall), row(s.children), ...s.byAgeBucket.map(row)]) +
    figures
  );
}
