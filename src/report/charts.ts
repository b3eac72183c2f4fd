import { ETHNICITIES, GENDERS, SPLITS } from '../core/types.js';
import { AGE_BUCKETS } from '../data/labels.js';
import type { EvaluationResult, PredictionRecord } from '../eval/evaluate.js';
import type { ConfusionMatrix } from '../eval/metrics.js';
import type { SlicingResult } from '../eval/slices.js';
import type { EdaStats } from './eda.js';
import type { ChartSpec } from './vega.js';

/** A chart of the report: its anchor id, title, one-line reading guide, and Vega-Lite spec. */
export interface ChartDef {
  id: string;
  title: string;
  caption: string;
  spec: ChartSpec;
}

const GENDER_COLOURS = { domain: [...GENDERS], range: ['#4c78a8', '#e45756'] };
// Okabe–Ito colours: told apart with red–green colour blindness too
const SPLIT_COLOURS = { domain: [...SPLITS], range: ['#0072b2', '#e69f00', '#009e73'] };
const ETHNICITY_COLOURS = { domain: [...ETHNICITIES], range: ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9'] };
const BUCKETS = AGE_BUCKETS.map((b) => b.name);
/** Tick values of the age-error axis (years). */
export const ERROR_TICKS = [-60, -40, -20, -8, 0, 8, 20, 40, 60];

/** 0, 10, 20, … up to the oldest age. */
export function decadeTicks(eda: EdaStats): number[] {
  const oldest = eda.ageYears.at(-1)?.age ?? 0;
  return Array.from({ length: Math.floor(oldest / 10) + 1 }, (_, i) => i * 10);
}

/** Age distributions: per year of age and per decade. */
function ageCharts(eda: EdaStats): ChartDef[] {
  return [
    {
      id: 'age-years',
      title: 'Age distribution (1-year bins)',
      caption: 'Kept faces per year of age. Spikes at round ages and at 1 year old are annotation habits in UTKFace.',
      spec: {
        width: 720,
        height: 200,
        data: { values: eda.ageYears.map((a) => ({ ...a, next: a.age + 1 })) },
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          // ticks every 10 years (bin-edge ticks started at the youngest age: 1, 9, 17, …)
          x: { field: 'age', type: 'quantitative', bin: { binned: true, step: 1 }, axis: { values: decadeTicks(eda) }, title: 'age (years)' },
          x2: { field: 'next' },
          y: { field: 'count', type: 'quantitative', title: 'faces' },
          tooltip: [{ field: 'age' }, { field: 'count' }],
        },
      } as ChartSpec,
    },
    {
      id: 'age-decades',
      title: 'Age distribution (decades)',
      caption: 'Kept faces per decade of age.',
      spec: {
        width: 420,
        height: 200,
        data: { values: eda.ageDecades },
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: { field: 'decade', type: 'ordinal', sort: { field: 'order' }, title: 'age decade' },
          y: { field: 'count', type: 'quantitative', title: 'faces' },
        },
      },
    },
  ];
}

/** Gender and ethnicity labels, and the population pyramid per ethnicity. */
function labelCharts(eda: EdaStats): ChartDef[] {
  return [
    {
      id: 'gender-counts',
      title: 'Gender labels',
      caption: 'Binary gender labels as annotated in UTKFace (not gender identity).',
      spec: {
        width: 220,
        height: 200,
        data: { values: eda.genderCounts },
        mark: 'bar',
        encoding: {
          x: { field: 'gender', type: 'nominal', title: null },
          y: { field: 'count', type: 'quantitative', title: 'faces' },
          color: { field: 'gender', type: 'nominal', scale: GENDER_COLOURS, legend: null },
        },
      },
    },
    {
      id: 'ethnicity-counts',
      title: 'Ethnicity labels, by gender label',
      caption: 'Faces per ethnicity label, stacked by gender label: White faces dominate and skew male; Asian skews female.',
      spec: {
        width: 360,
        height: 200,
        data: { values: eda.ethnicityGender },
        mark: 'bar',
        encoding: {
          x: { field: 'ethnicity', type: 'nominal', sort: [...ETHNICITIES], title: null },
          y: { field: 'count', type: 'quantitative', title: 'faces' },
          color: { field: 'gender', type: 'nominal', scale: GENDER_COLOURS },
        },
      },
    },
    {
      id: 'pyramid',
      title: 'Population pyramid per ethnicity',
      caption: 'Male faces to the left, female to the right, per age bucket. Sparse cells are where the model has least to learn from.',
      spec: {
        data: { values: eda.pyramid },
        facet: { column: { field: 'ethnicity', type: 'nominal', sort: [...ETHNICITIES], title: null } },
        spec: {
          width: 150,
          height: 200,
          mark: 'bar',
          encoding: {
            y: { field: 'bucket', type: 'ordinal', sort: [...BUCKETS].reverse(), title: 'age bucket' },
            x: { field: 'signed', type: 'quantitative', title: '← male · female →', axis: { labelExpr: 'abs(datum.value)' } },
            color: { field: 'gender', type: 'nominal', scale: GENDER_COLOURS },
            tooltip: [{ field: 'ethnicity' }, { field: 'gender' }, { field: 'bucket' }, { field: 'count' }],
          },
        },
        resolve: { scale: { x: 'independent' } },
      } as ChartSpec,
    },
  ];
}

/** Every input file by its status after cleaning. */
function cleaningChart(eda: EdaStats): ChartDef {
  return {
    id: 'cleaning-status',
    title: 'What cleaning did to the files',
    caption: 'Every input file by its status after `agegender prepare`.',
    spec: {
      width: 420,
      height: { step: 22 },
      // largest first, in data order: a '-x' sort on a layered bar + text chart makes Vega-Lite warn
      // ("Domains that should be unioned has conflicting sort properties") on every report build
      data: { values: [...eda.statusCounts].sort((a, b) => b.count - a.count) },
      encoding: {
        y: { field: 'status', type: 'nominal', sort: null, title: null },
        x: { field: 'count', type: 'quantitative', title: 'files (log scale)', scale: { type: 'symlog' } },
        tooltip: [{ field: 'status' }, { field: 'count' }],
      },
      // on a log scale few ticks get a label: each bar carries its count
      layer: [{ mark: { type: 'bar', color: '#72b7b2' } }, { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'count', type: 'quantitative', format: ',' } } }],
    } as ChartSpec,
  };
}

/** Age-bucket and ethnicity shares per split, side by side. */
function splitComparisonChart(eda: EdaStats): ChartDef {
  return {
    id: 'split-comparison',
    title: 'Split comparison: age buckets and ethnicity shares',
    caption: 'Share of each split per age bucket (left) and ethnicity (right): a stratified split keeps the bars level.',
    spec: {
      hconcat: [
        {
          width: 380,
          height: 180,
          data: { values: eda.splits.flatMap((s) => Object.entries(s.buckets).map(([bucket, share]) => ({ split: s.split, bucket, share }))) },
          mark: 'bar',
          encoding: {
            x: { field: 'bucket', type: 'ordinal', sort: BUCKETS, title: 'age bucket' },
            xOffset: { field: 'split', type: 'nominal', sort: [...SPLITS] },
            y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'share of split' },
            color: { field: 'split', type: 'nominal', scale: SPLIT_COLOURS },
          },
        },
        {
          width: 260,
          height: 180,
          data: { values: eda.splits.flatMap((s) => Object.entries(s.ethnicity).map(([ethnicity, share]) => ({ split: s.split, ethnicity, share }))) },
          mark: 'bar',
          encoding: {
            x: { field: 'ethnicity', type: 'nominal', sort: [...ETHNICITIES], title: null },
            xOffset: { field: 'split', type: 'nominal', sort: [...SPLITS] },
            y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'share of split' },
            color: { field: 'split', type: 'nominal', scale: SPLIT_COLOURS },
          },
        },
      ],
    } as ChartSpec,
  };
}

/** The data charts: age, labels, cleaning status and the split comparison, in page order. */
export function edaCharts(eda: EdaStats): ChartDef[] {
  return [...ageCharts(eda), ...labelCharts(eda), cleaningChart(eda), splitComparisonChart(eda)];
}

/** Training curves from the model folder's metrics log: one small panel per logged quantity. */
export function trainingChart(log: ReadonlyArray<Record<string, unknown>>): ChartDef | null {
  const points: Array<{ epoch: number; stage: string; metric: string; value: number }> = [];
  const staged = log.some((e) => typeof e.stage === 'number' || typeof e.stage === 'string');
  log.forEach((entry, i) => {
    // with stages (e.g. frozen encoder, then fine-tuning) epochs restart, so count them across stages
    const epoch = staged ? i + 1 : typeof entry.epoch === 'number' ? entry.epoch : typeof entry.step === 'number' ? entry.step : i + 1;
    const stage = staged ? `stage ${String(entry.stage ?? '?')}` : 'training';
    for (const [metric, value] of Object.entries(entry)) {
      if (['epoch', 'epochs', 'step', 'stage'].includes(metric) || typeof value !== 'number' || !Number.isFinite(value)) continue;
      if (/time|seconds|ms$|^lr$|learningRate/i.test(metric)) continue;
      points.push({ epoch, stage, metric, value });
    }
  });
  if (points.length === 0) return null;
  return {
    id: 'training-curves',
    title: 'Training curves',
    caption: `Every numeric quantity in the training log, per epoch${staged ? ' (counted across training stages; colour = stage)' : ''}; each panel has its own scale.`,
    spec: {
      data: { values: points },
      facet: { field: 'metric', type: 'nominal', title: null },
      columns: 3,
      spec: {
        width: 220,
        height: 130,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: staged ? 'epoch (all stages)' : 'epoch' },
          y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
          color: { field: 'stage', type: 'nominal', title: null },
        },
      },
      // an x axis under every panel: a shared one is drawn under each column, also under an empty last cell
      resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    } as ChartSpec,
  };
}

function confusionChart(id: string, title: string, caption: string, cm: ConfusionMatrix, size: number): ChartDef {
  const values = cm.labels.flatMap((actual, i) => {
    const rowTotal = cm.matrix[i]!.reduce((a, b) => a + b, 0);
    return cm.labels.map((predicted, j) => ({ actual, predicted, count: cm.matrix[i]![j]!, share: rowTotal ? cm.matrix[i]![j]! / rowTotal : 0 }));
  });
  return {
    id,
    title,
    caption,
    spec: {
      width: size,
      height: size,
      data: { values },
      encoding: {
        x: { field: 'predicted', type: 'ordinal', sort: cm.labels, title: 'predicted' },
        y: { field: 'actual', type: 'ordinal', sort: cm.labels, title: 'annotated' },
      },
      layer: [
        {
          mark: 'rect',
          encoding: {
            color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, title: 'row share' },
            tooltip: [{ field: 'actual' }, { field: 'predicted' }, { field: 'count' }, { field: 'share', format: '.1%' }],
          },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            text: { field: 'count', type: 'quantitative' },
            color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
          },
        },
      ],
    } as ChartSpec,
  };
}

function ciChart(id: string, title: string, caption: string, slicing: SlicingResult | undefined, metric: 'mae' | 'accuracy', sort: string[]): ChartDef | null {
  if (!slicing) return null;
  const values = slicing.groups.map((g) => ({
    group: g.name,
    value: metric === 'mae' ? g.age.mae : g.gender.accuracy,
    low: g.ci[metric]?.low ?? null,
    high: g.ci[metric]?.high ?? null,
    count: g.count,
  }));
  const label = metric === 'mae' ? 'age MAE (years)' : 'gender accuracy';
  return {
    id,
    title,
    caption,
    spec: {
      width: 440,
      height: { step: 18 },
      data: { values },
      encoding: { y: { field: 'group', type: 'nominal', sort, title: null } },
      layer: [
        {
          mark: { type: 'rule', color: '#888888' },
          encoding: { x: { field: 'low', type: 'quantitative', title: label }, x2: { field: 'high' } },
        },
        {
          mark: { type: 'point', filled: true, color: metric === 'mae' ? '#e45756' : '#4c78a8', size: 50 },
          encoding: {
            x: { field: 'value', type: 'quantitative', scale: { zero: false } },
            tooltip: [{ field: 'group' }, { field: 'count' }, { field: 'value', format: '.3f' }, { field: 'low', format: '.3f' }, { field: 'high', format: '.3f' }],
          },
        },
      ],
    } as ChartSpec,
  };
}

export function evaluationCharts(result: EvaluationResult, records: readonly PredictionRecord[]): ChartDef[] {
  const maxAge = Math.max(100, ...records.map((r) => Math.max(r.age, r.predictedAge)));
  const slicing = (name: string): SlicingResult | undefined => result.slices.find((s) => s.name === name);
  const ethGender = slicing('ethnicity × gender');
  const ethGenderOrder = ethGender ? ethGender.groups.map((g) => g.name) : [];
  const charts: Array<ChartDef | null> = [
    {
      id: 'error-histogram',
      title: 'Age error (predicted − annotated)',
      caption: 'Signed age errors in 2-year bins; the shaded band is the ±8-year criterion.',
      spec: {
        width: 560,
        height: 200,
        layer: [
          {
            data: { values: [{ low: -8, high: 8 }] },
            mark: { type: 'rect', color: '#54a24b', opacity: 0.12 },
            encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } },
          },
          {
            data: { values: records.map((r) => ({ error: Math.max(-60, Math.min(60, r.predictedAge - r.age)) })) },
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              // ticks at 0 and at the ±8 criterion, not at every 16th bin edge (−60, −44, … 52)
              x: { field: 'error', type: 'quantitative', bin: { step: 2, extent: [-60, 60] }, axis: { values: ERROR_TICKS }, title: 'error (years, clipped to ±60)' },
              y: { aggregate: 'count', type: 'quantitative', title: 'faces' },
            },
          },
        ],
      } as ChartSpec,
    },
    {
      id: 'predicted-vs-actual',
      title: 'Predicted vs annotated age',
      caption: 'Each dot is a face; the green band is ±8 years around the diagonal. Dots below the band are under-estimates.',
      spec: {
        width: 420,
        height: 420,
        layer: [
          {
            data: { values: [{ a: 0, low: 0, high: 8 }, { a: maxAge, low: maxAge - 8, high: maxAge + 8 }] },
            mark: { type: 'area', color: '#54a24b', opacity: 0.18 },
            encoding: {
              x: { field: 'a', type: 'quantitative', title: 'annotated age', scale: { domain: [0, maxAge] } },
              y: { field: 'low', type: 'quantitative', title: 'predicted age', scale: { domain: [0, maxAge + 8] } },
              y2: { field: 'high' },
            },
          },
          {
            data: { values: [{ a: 0 }, { a: maxAge }] },
            mark: { type: 'line', color: '#54a24b' },
            encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'a', type: 'quantitative' } },
          },
          {
            data: { values: records.map((r) => ({ age: r.age, predicted: Math.round(r.predictedAge * 10) / 10, ethnicity: r.ethnicity })) },
            mark: { type: 'circle', size: 10, opacity: 0.35 },
            encoding: {
              x: { field: 'age', type: 'quantitative' },
              y: { field: 'predicted', type: 'quantitative' },
              // the dots are faint (many overlap); the legend's are not
              color: { field: 'ethnicity', type: 'nominal', scale: ETHNICITY_COLOURS, legend: { symbolOpacity: 1 } },
            },
          },
        ],
      } as ChartSpec,
    },
    {
      id: 'cumulative-score',
      title: 'Cumulative score CS@k',
      caption: 'Share of faces whose age error is at most k years, for k = 1…20.',
      spec: {
        width: 420,
        height: 200,
        data: { values: Object.entries(result.age.cs).map(([k, v]) => ({ k: Number(k), cs: v })) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'k', type: 'quantitative', title: 'k (years)' },
          y: { field: 'cs', type: 'quantitative', axis: { format: '%' }, scale: { domain: [0, 1] }, title: 'CS@k' },
        },
      },
    },
    confusionChart('confusion-gender', 'Gender confusion matrix', 'Rows: annotated label; columns: predicted (threshold 0.5). Colour = share of the row.', result.confusion.gender, 160),
    confusionChart('confusion-decades', 'Age-decade confusion matrix', 'Rows: annotated decade; columns: predicted decade. Off-diagonal mass below the diagonal = under-estimates.', result.confusion.ageDecades, 360),
    {
      id: 'calibration',
      title: 'Calibration of P(female)',
      caption: `Reliability diagram in 10 bins: dots on the diagonal are calibrated. ECE = ${fmt(result.gender.ece)}.`,
      spec: {
        width: 300,
        height: 300,
        layer: [
          {
            data: { values: [{ p: 0 }, { p: 1 }] },
            mark: { type: 'line', color: '#bbbbbb', strokeDash: [4, 4] },
            encoding: { x: { field: 'p', type: 'quantitative', scale: { domain: [0, 1] }, title: 'mean predicted P(female)' }, y: { field: 'p', type: 'quantitative', scale: { domain: [0, 1] }, title: 'observed share female' } },
          },
          {
            data: { values: result.calibration.filter((b) => b.count > 0) },
            mark: { type: 'line', point: true, color: '#e45756' },
            encoding: {
              x: { field: 'meanProbability', type: 'quantitative' },
              y: { field: 'observedFrequency', type: 'quantitative' },
              tooltip: [{ field: 'low' }, { field: 'high' }, { field: 'count' }],
            },
          },
        ],
      } as ChartSpec,
    },
    ciChart('slice-mae', 'Age MAE by ethnicity × gender, with 95% bootstrap intervals', 'Dots: MAE of the group; bars: 95% interval. Overlapping bars mean the data cannot tell the groups apart.', ethGender, 'mae', ethGenderOrder),
    ciChart('slice-accuracy', 'Gender accuracy by ethnicity × gender, with 95% bootstrap intervals', 'Dots: accuracy of the group; bars: 95% interval.', ethGender, 'accuracy', ethGenderOrder),
    ciChart('slice-mae-age', 'Age MAE by age bucket, with 95% bootstrap intervals', 'Errors grow with age: older faces are rarer and harder.', slicing('ageBucket'), 'mae', BUCKETS),
  ];
  return charts.filter((c): c is ChartDef => c !== null);
}

export function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}
