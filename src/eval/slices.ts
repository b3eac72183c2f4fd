import { ETHNICITIES, GENDERS, type Ethnicity, type Gender } from '../core/types.js';
import { AGE_BUCKETS, ageBucket } from '../data/labels.js';
import { bootstrapIntervals, type BootstrapOptions, type ConfidenceInterval, type Statistic } from './bootstrap.js';
import { ageMetrics, classificationMetrics, genderMetrics, type AgeMetrics, type GenderMetrics } from './metrics.js';

/** One evaluated face: its labels and the model's outputs. */
export interface EvalRecord {
  age: number;
  gender: Gender;
  ethnicity: Ethnicity;
  predictedAge: number;
  femaleProbability: number;
}

export const SLICE_DIMENSIONS = Object.freeze(['ethnicity', 'gender', 'ageBucket'] as const);
export type SliceDimension = (typeof SLICE_DIMENSIONS)[number];

/** Slicings reported: each dimension alone, then their crossings. */
export const SLICINGS: readonly (readonly SliceDimension[])[] = Object.freeze([
  ['ethnicity'],
  ['gender'],
  ['ageBucket'],
  ['ethnicity', 'gender'],
  ['ethnicity', 'ageBucket'],
  ['gender', 'ageBucket'],
  ['ethnicity', 'gender', 'ageBucket'],
]);

/** Metrics that get bootstrap intervals and best−worst gaps, and whether lower is better. */
export const SLICE_METRICS = Object.freeze({
  mae: { lowerIsBetter: true },
  rmse: { lowerIsBetter: true },
  within8: { lowerIsBetter: false },
  accuracy: { lowerIsBetter: false },
  f1: { lowerIsBetter: false },
  rocAuc: { lowerIsBetter: false },
  ece: { lowerIsBetter: true },
} as const);
export type SliceMetricName = keyof typeof SLICE_METRICS;

export interface GroupResult {
  /** e.g. `{ ethnicity: 'Asian', gender: 'female' }`. */
  key: Partial<Record<SliceDimension, string>>;
  /** e.g. `Asian / female`. */
  name: string;
  count: number;
  age: AgeMetrics;
  gender: GenderMetrics;
  ci: Record<SliceMetricName, ConfidenceInterval | null>;
}

export interface MetricGap {
  metric: SliceMetricName;
  lowerIsBetter: boolean;
  best: { name: string; value: number; count: number } | null;
  worst: { name: string; value: number; count: number } | null;
  /** |best − worst|, over groups with at least `minGroupSize` faces. */
  gap: number | null;
}

export interface SlicingResult {
  dimensions: SliceDimension[];
  name: string;
  /** Sum of group counts; equals the number of evaluated faces. */
  total: number;
  /** Fewest faces a group needs to be ranked in `gaps` (absent in evaluations written before it was recorded: 20). */
  minGroupSize?: number;
  groups: GroupResult[];
  gaps: MetricGap[];
}

export interface SliceOptions extends BootstrapOptions {
  /** Groups smaller than this are listed but left out of best/worst gaps (default 20). */
  minGroupSize?: number;
}

export function dimensionValue(record: EvalRecord, dimension: SliceDimension): string {
  if (dimension === 'ageBucket') return ageBucket(record.age);
  return record[dimension];
}

const DIMENSION_ORDER: Record<SliceDimension, readonly string[]> = {
  ethnicity: ETHNICITIES,
  gender: GENDERS,
  ageBucket: AGE_BUCKETS.map((b) => b.name),
};

/** Metrics of one set of records, with bootstrap intervals for the slice metrics. */
export function groupMetrics(records: readonly EvalRecord[], options: BootstrapOptions = {}): Omit<GroupResult, 'key' | 'name'> {
  const ages = records.map((r) => r.age);
  const predicted = records.map((r) => r.predictedAge);
  const isFemale = records.map((r) => r.gender === 'female');
  const probability = records.map((r) => r.femaleProbability);
  // typed copies for the resampling loops (plain indexed loops: these run n × replicates times)
  const absErr = Float64Array.from(records, (r) => Math.abs(r.predictedAge - r.age));
  const female = Uint8Array.from(records, (r) => (r.gender === 'female' ? 1 : 0));
  const saysFemale = Uint8Array.from(records, (r) => (r.femaleProbability >= 0.5 ? 1 : 0));
  const bin = Uint8Array.from(records, (r) => Math.min(9, Math.max(0, Math.floor(r.femaleProbability * 10))));
  const stats: Record<SliceMetricName, Statistic> = {
    mae: (idx) => {
      let s = 0;
      for (let k = 0; k < idx.length; k++) s += absErr[idx[k]!]!;
      return s / idx.length;
    },
    rmse: (idx) => {
      let s = 0;
      for (let k = 0; k < idx.length; k++) s += absErr[idx[k]!]! ** 2;
      return Math.sqrt(s / idx.length);
    },
    within8: (idx) => {
      let hits = 0;
      for (let k = 0; k < idx.length; k++) if (absErr[idx[k]!]! <= 8) hits++;
      return hits / idx.length;
    },
    accuracy: (idx) => {
      let hits = 0;
      for (let k = 0; k < idx.length; k++) if (female[idx[k]!] === saysFemale[idx[k]!]) hits++;
      return hits / idx.length;
    },
    f1: (idx) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k]!;
        if (female[i]) {
          if (saysFemale[i]) tp++;
          else fn++;
        } else if (saysFemale[i]) fp++;
      }
      return classificationMetrics({ tp, fp, fn, tn: idx.length - tp - fp - fn }).f1;
    },
    rocAuc: resampledAuc(isFemale, probability),
    ece: (idx) => {
      const count = new Float64Array(10);
      const sumP = new Float64Array(10);
      const sumY = new Float64Array(10);
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k]!;
        const b = bin[i]!;
        count[b]!++;
        sumP[b]! += probability[i]!;
        sumY[b]! += female[i]!;
      }
      let ece = 0;
      for (let b = 0; b < 10; b++) if (count[b]! > 0) ece += Math.abs(sumP[b]! - sumY[b]!) / idx.length;
      return ece;
    },
  };
  return {
    count: records.length,
    age: ageMetrics(ages, predicted),
    gender: genderMetrics(isFemale, probability),
    ci: bootstrapIntervals(records.length, stats, options),
  };
}

/**
 * ROC-AUC of a resample in O(n): the scores are sorted once, and each resample only counts how often each
 * item was drawn, then sweeps the tie groups (a positive tied with a negative counts one half).
 */
export function resampledAuc(actual: readonly boolean[], scores: readonly number[]): Statistic {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const groupEnd: number[] = [];
  for (let i = 0; i < order.length; i++) if (i === order.length - 1 || scores[order[i + 1]!] !== scores[order[i]!]) groupEnd.push(i);
  const draws = new Int32Array(scores.length);
  return (idx) => {
    draws.fill(0);
    for (let k = 0; k < idx.length; k++) draws[idx[k]!]!++;
    let negativesBelow = 0;
    let wins = 0;
    let positives = 0;
    let start = 0;
    for (const end of groupEnd) {
      let pos = 0;
      let neg = 0;
      for (let k = start; k <= end; k++) {
        const item = order[k]!;
        if (actual[item]) pos += draws[item]!;
        else neg += draws[item]!;
      }
      wins += pos * negativesBelow + 0.5 * pos * neg;
      negativesBelow += neg;
      positives += pos;
      start = end + 1;
    }
    return positives === 0 || negativesBelow === 0 ? null : wins / (positives * negativesBelow);
  };
}

function metricValue(group: GroupResult, metric: SliceMetricName): number | null {
  switch (metric) {
    case 'mae':
      return group.age.mae;
    case 'rmse':
      return group.age.rmse;
    case 'ece':
      return group.gender.ece;
    case 'within8':
      return group.age.within8;
    case 'accuracy':
      return group.gender.accuracy;
    case 'f1':
      return group.gender.f1;
    case 'rocAuc':
      return group.gender.rocAuc;
  }
}

/** Best and worst group per slice metric, over groups with at least `minGroupSize` faces. */
export function metricGaps(groups: readonly GroupResult[], minGroupSize: number): MetricGap[] {
  return (Object.keys(SLICE_METRICS) as SliceMetricName[]).map((metric) => {
    const lowerIsBetter = SLICE_METRICS[metric].lowerIsBetter;
    let best: MetricGap['best'] = null;
    let worst: MetricGap['worst'] = null;
    for (const g of groups) {
      const value = metricValue(g, metric);
      if (value === null || g.count < minGroupSize) continue;
      const better = (a: number, b: number): boolean => (lowerIsBetter ? a < b : a > b);
      if (!best || better(value, best.value)) best = { name: g.name, value, count: g.count };
      if (!worst || better(worst.value, value)) worst = { name: g.name, value, count: g.count };
    }
    return { metric, lowerIsBetter, best, worst, gap: best && worst ? Math.abs(best.value - worst.value) : null };
  });
}

/**
 * Every metric per ethnicity, gender and age bucket and their crossings. Each slicing partitions the
 * records, so its group counts add up to `records.length`.
 */
export function sliceMetrics(records: readonly EvalRecord[], options: SliceOptions = {}): SlicingResult[] {
  const minGroupSize = options.minGroupSize ?? 20;
  return SLICINGS.map((dimensions) => {
    const buckets = new Map<string, EvalRecord[]>();
    for (const r of records) {
      const key = dimensions.map((d) => dimensionValue(r, d)).join('\u0000');
      let list = buckets.get(key);
      if (!list) buckets.set(key, (list = []));
      list.push(r);
    }
    const rank = (key: string): number[] => key.split('\u0000').map((v, i) => DIMENSION_ORDER[dimensions[i]!].indexOf(v));
    const keys = [...buckets.keys()].sort((a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
      return 0;
    });
    const groups: GroupResult[] = keys.map((k, gi) => {
      const values = k.split('\u0000');
      const key: Partial<Record<SliceDimension, string>> = {};
      dimensions.forEach((d, i) => (key[d] = values[i]!));
      return { key, name: values.join(' / '), ...groupMetrics(buckets.get(k)!, { ...options, seed: (options.seed ?? 1) + gi }) };
    });
    return {
      dimensions: [...dimensions],
      name: dimensions.join(' × '),
      total: groups.reduce((s, g) => s + g.count, 0),
      minGroupSize,
      groups,
      gaps: metricGaps(groups, minGroupSize),
    };
  });
}

export interface RankedSample {
  /** Index into the records array. */
  index: number;
  /** Absolute age error (age task) or probability given to the true label (gender task). */
  score: number;
}

/**
 * Best and worst N per task. Age: smallest / largest absolute error. Gender: highest / lowest probability
 * given to the annotated label (worst = confidently wrong).
 */
export function bestWorst(records: readonly EvalRecord[], n = 8): { age: { best: RankedSample[]; worst: RankedSample[] }; gender: { best: RankedSample[]; worst: RankedSample[] } } {
  const ageScores = records.map((r, index) => ({ index, score: Math.abs(r.predictedAge - r.age) }));
  const genderScores = records.map((r, index) => ({ index, score: r.gender === 'female' ? r.femaleProbability : 1 - r.femaleProbability }));
  const asc = (a: RankedSample, b: RankedSample): number => a.score - b.score || a.index - b.index;
  const desc = (a: RankedSample, b: RankedSample): number => b.score - a.score || a.index - b.index;
  return {
    age: { best: [...ageScores].sort(asc).slice(0, n), worst: [...ageScores].sort(desc).slice(0, n) },
    gender: { best: [...genderScores].sort(desc).slice(0, n), worst: [...genderScores].sort(asc).slice(0, n) },
  };
}
