import { abstentionChart, abstentionOf, abstentionSectionHtml } from './abstention.js';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestRow } from '../core/types.js';
import { readSourceBytes } from '../data/sources.js';
import type { AgeGenderModel, ModelMetadata } from '../model/api.js';
import type { EvaluationResult, PredictionRecord } from '../eval/evaluate.js';
import type { PhotoEvaluation } from '../eval/photos.js';
import type { SummaryFile } from '../workspace/summary.js';
import { edaStats } from './eda.js';
import { edaCharts, evaluationCharts, trainingChart, type ChartDef } from './charts.js';
import { esc, REPORT_CSS, Thumbnails } from './html.js';
import { modelCardHtml } from './model-card.js';
import {
  bestWorstSection,
  cleaningSection,
  edaSection,
  evaluationSection,
  limeSection,
  slicesSection,
  splitsSection,
  trainingSection,
  type RenderedCharts,
  type Section,
} from './sections.js';
import { renderSvg, type ChartSpec } from './vega.js';

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
  /** LIME samples per panel (default 300). */
  limeSamples?: number;
  /** Faces per slice gallery (default 6). */
  galleryPerSlice?: number;
  readBytes?: (source: string) => Promise<Uint8Array>;
  now?: () => Date;
  /** A photo evaluation (`agegender evaluate --photos`) for the model card's photo section. */
  photos?: PhotoEvaluation | null;
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

/** Renders every chart to SVG (in page order) and returns how each is placed on the page. */
async function renderCharts(eda: ChartDef[], training: ChartDef | null, evaluation: ChartDef[], abstention: ChartDef[]): Promise<RenderedCharts> {
  const all = [...eda, ...(training ? [training] : []), ...evaluation, ...abstention];
  const svgs = new Map<string, string>();
  // no background of their own: the box a wide chart scrolls in shows a shadow at an edge it hides content past
  for (const c of all) svgs.set(c.id, await renderSvg({ ...c.spec, config: { ...c.spec.config, background: 'transparent' } } as ChartSpec, `${c.title}. ${c.caption}`));
  const figure = (c: ChartDef): string =>
    `<figure class="chart" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}"><figcaption><b>${esc(c.title)}</b>${esc(c.caption)}</figcaption><div class="chart-scroll">${svgs.get(c.id)!}</div></figure>`;
  return { eda, training, evaluation, abstention, all, figures: (defs) => defs.map(figure).join('\n') };
}

/** The page: title, header with the chart count, a table of contents and the sections in order. */
function page(metadata: ModelMetadata, split: string, now: Date, chartCount: number, sections: readonly Section[]): string {
  const nav = `<nav><ul>${sections.map(([id, title]) => `<li><a href="#${id}">${esc(title)}</a></li>`).join('')}</ul></nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="agegender-charts" content="${chartCount}">
<title>agegender report — ${esc(metadata.name)} on ${esc(split)}</title><style>${REPORT_CSS}</style></head>
<body><header><h1>agegender audit report</h1><p class="muted">Model <b>${esc(metadata.name)}</b> · split <b>${esc(split)}</b> · generated ${esc(now.toISOString())} · <span id="chart-count">${chartCount}</span> charts</p></header>
${nav}
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`).join('\n')}
</body></html>
`;
}

/**
 * Builds the self-contained HTML report: EDA, cleaning summary, split comparison, training curves,
 * evaluation charts and slice tables with intervals, best/worst galleries, LIME panels and the model
 * card. Charts are Vega-Lite specs rendered to inline SVG in Node; thumbnails are data URIs.
 * @example const { html, charts } = await buildReport({ rows, summary, evaluation, records, metadata, trainingLog: null });
 */
export async function buildReport(input: ReportInput): Promise<BuiltReport> {
  const now = (input.now ?? (() => new Date()))();
  const readBytes = input.readBytes ?? readSourceBytes;
  const thumbs = new Thumbnails(80, readBytes);
  const ev = input.evaluation;
  const eda = edaStats(input.rows);
  const log = input.trainingLog ?? historyFromMetadata(input.metadata);
  const abstention = abstentionOf(ev, input.records, input.metadata);
  const charts = await renderCharts(edaCharts(eda), log ? trainingChart(log) : null, evaluationCharts(ev, input.records), [abstentionChart(abstention)]);
  const sections: Section[] = [
    await edaSection(eda, charts, input.rows, thumbs, input.galleryPerSlice ?? REPORT_DEFAULTS.galleryPerSlice),
    await cleaningSection(input.rows, input.summary, charts, thumbs),
    splitsSection(eda, charts),
    trainingSection(charts),
    evaluationSection(ev, charts),
    ['gender-abstention', 'Gender abstention ("uncertain")', abstentionSectionHtml(abstention, ev.split, charts.figures(charts.abstention))],
    slicesSection(ev),
    await bestWorstSection(ev, thumbs),
    await limeSection(ev, input.model, input.limeCount ?? REPORT_DEFAULTS.limeCount, input.limeSamples ?? REPORT_DEFAULTS.limeSamples, readBytes),
    ['model-card', 'Model card', modelCardHtml({ metadata: input.metadata, evaluation: ev, abstention, statusCounts: eda.statusCounts, labelAgreement: input.summary?.labelAgreement?.identicalBytes ?? null, photos: input.photos ?? null })],
  ];
  return { html: page(input.metadata, ev.split, now, charts.all.length, sections), charts: charts.all.length, chartIds: charts.all.map((c) => c.id) };
}
