import type { EvaluationResult } from './evaluate.js';
import { count } from '../core/format.js';

/**
 * A short account of an evaluation for the terminal: counts, the headline metrics with their 95%
 * intervals, the best/worst gap of each one-dimensional slice, the first skipped files, and where it
 * was written when `files` are given.
 * @example for (const line of formatEvaluation(result)) console.log(line);
 */
export function formatEvaluation(result: EvaluationResult, files?: { result: string; predictions: string }): string[] {
  const f = (v: number | null, d = 3): string => (v === null ? 'n/a' : v.toFixed(d));
  const lines = [
    `${result.split}: ${count(result.counts.evaluated, 'face')} (${result.counts.skipped} skipped)`,
    `age: MAE ${f(result.age.mae, 2)} (95% CI ${f(result.ci.mae?.low ?? null, 2)}–${f(result.ci.mae?.high ?? null, 2)}), RMSE ${f(result.age.rmse, 2)}, within ±8 ${f(result.age.within8)}`,
    `gender: accuracy ${f(result.gender.accuracy)}, F1 ${f(result.gender.f1)}, ROC-AUC ${f(result.gender.rocAuc)}, ECE ${f(result.gender.ece)}`,
  ];
  const a = result.abstention;
  if (a) {
    const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
    lines.push(`gender threshold ${a.threshold}: ${pct(a.overall.coverage)} answered at ${pct(a.overall.accuracy)} accuracy; ages 0–9: ${pct(a.children.coverage)} answered at ${pct(a.children.accuracy)}`);
  }
  for (const s of result.slices.filter((x) => x.dimensions.length === 1)) {
    for (const g of s.gaps.filter((x) => x.metric === 'mae' || x.metric === 'accuracy')) {
      if (g.best && g.worst) lines.push(`${s.name} ${g.metric}: best ${g.best.name} ${f(g.best.value)}, worst ${g.worst.name} ${f(g.worst.value)}, gap ${f(g.gap)}`);
    }
  }
  for (const s of result.skipped.slice(0, 10)) lines.push(`skipped ${s.source}: ${s.reason}`);
  if (files) lines.push(writtenEvaluation(files));
  return lines;
}

/** The line saying where an evaluation was stored. */
export function writtenEvaluation(files: { result: string; predictions: string }): string {
  return `wrote ${files.result} and ${files.predictions}`;
}
