/**
 * The report's gender-abstention part: the accuracy–coverage chart (overall and by age bucket) and
 * the section with the figures at the model's threshold. Evaluations written before abstention
 * existed get the summary recomputed from their predictions at the model folder's threshold.
 */
import { NO_ABSTENTION } from '../core/gender.js';
import { abstentionSummary, type AbstentionGroup, type AbstentionSummary } from '../eval/abstention.js';
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

/** Accuracy on answered faces against coverage, one line per group, the chosen threshold marked. */
export function abstentionChart(s: AbstentionSummary): ChartDef {
  const points = s.curves.flatMap((c) => c.points.filter((p) => p.coverage !== null && p.accuracy !== null).map((p) => ({ group: c.group, threshold: p.threshold, coverage: p.coverage, accuracy: p.accuracy })));
  const chosen = [s.overall, ...s.byAgeBucket].filter((g) => g.coverage !== null && g.accuracy !== null).map((g) => ({ group: g.group, coverage: g.coverage, accuracy: g.accuracy }));
  const order = s.curves.map((c) => c.group);
  return {
    id: 'gender-accuracy-coverage',
    title: 'Gender accuracy–coverage',
    caption: `Raising the gender threshold from 0.5 answers fewer faces (coverage) more accurately; one line per age bucket, "all" in bold. Dots: the model's threshold ${s.threshold}.`,
    spec: {
      width: 520,
      height: 300,
      layer: [
        {
          data: { values: points },
          mark: { type: 'line', point: false },
          encoding: {
            x: { field: 'coverage', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'coverage (share of faces answered)' },
            y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, axis: { format: '%' }, title: 'accuracy on answered faces' },
            color: { field: 'group', type: 'nominal', sort: order, title: 'ages' },
            strokeWidth: { condition: { test: "datum.group === 'all'", value: 3.5 }, value: 1.3 },
            order: { field: 'threshold', type: 'quantitative' },
          },
        },
        {
          data: { values: chosen },
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            x: { field: 'coverage', type: 'quantitative' },
            y: { field: 'accuracy', type: 'quantitative' },
            color: { field: 'group', type: 'nominal', sort: order },
          },
        },
      ],
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
