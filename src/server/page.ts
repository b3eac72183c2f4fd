/**
 * The web page: GET / (HTML), GET /app.js and GET /app.css. No inline script or style, no external
 * resources, so the page runs under `default-src 'self'; img-src 'self' data:`. Drop (or choose) a
 * photo: it is sent to /v1/predict, each face is boxed and listed with age, gender and probability,
 * then /v1/explain adds each face's explanation overlay (where the server has an explainer). The "about" panel (what this is, how
 * accurate, what not to use it for) reads its figures and licence from the served model's metadata.
 *
 * @example
 *   registerPageRoutes(app, model);
 */
import type { FastifyInstance } from 'fastify';
import type { AgeGenderModel, ModelMetadata } from '../model/api.js';
import { SUPPORTED_FORMATS } from '../io/decode.js';
import { esc } from '../report/html.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';
import { pageGenderThreshold } from './schemas.js';

/** The accuracy figures recorded in a model's metadata (`metrics.test`, else `metrics.val`), or null. */
export interface ModelFigures {
  split: 'test' | 'val';
  count: number;
  mae: number;
  maeCi: [number, number] | null;
  genderAccuracy: number;
  genderAccuracyCi: [number, number] | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function interval(v: unknown): [number, number] | null {
  const r = v as { low?: unknown; high?: unknown } | undefined;
  const low = num(r?.low);
  const high = num(r?.high);
  return low !== null && high !== null ? [low, high] : null;
}

/** Reads the held-out figures from the metadata the model was saved with; null when none are recorded. */
export function modelFigures(metadata: ModelMetadata): ModelFigures | null {
  for (const split of ['test', 'val'] as const) {
    const m = (metadata.metrics as Record<string, unknown> | undefined)?.[split] as Record<string, unknown> | undefined;
    const count = num(m?.count);
    const mae = num(m?.mae);
    const genderAccuracy = num(m?.genderAccuracy);
    if (count === null || mae === null || genderAccuracy === null) continue;
    const ci = m?.ci as Record<string, unknown> | undefined;
    return { split, count, mae, maeCi: interval(ci?.mae), genderAccuracy, genderAccuracyCi: interval(ci?.accuracy) };
  }
  return null;
}

const pct1 = (share: number): string => `${(share * 100).toFixed(1)}%`;

function accuracyHtml(metadata: ModelMetadata): string {
  const f = modelFigures(metadata);
  if (!f) return `<p>This model's metadata records no held-out figures: its accuracy is unknown.</p>`;
  const maeCi = f.maeCi ? ` (95% CI ${f.maeCi[0].toFixed(1)}–${f.maeCi[1].toFixed(1)})` : '';
  const accCi = f.genderAccuracyCi ? ` (95% CI ${pct1(f.genderAccuracyCi[0])}–${pct1(f.genderAccuracyCi[1])})` : '';
  return `<p id="accuracy">On ${f.count.toLocaleString('en')} held-out UTKFace face chips (${f.split} split): the age is off by <b>${f.mae.toFixed(1)} years</b> on average${maeCi}, and the gender label matches the annotation for <b>${pct1(f.genderAccuracy)}</b> of faces${accCi}.</p>
<p>Expect larger errors on ordinary photos than on these cropped, frontal chips, for people over 40 (age), for young children (gender), and for faces in profile, occluded or in poor light.</p>`;
}

/** A threshold as a percentage with one decimal at most: 0.781 → "78.1%". */
function thresholdPct(t: number): string {
  return `${Math.round(t * 1000) / 10}%`;
}

/**
 * What the gender threshold means, with the share answered and their accuracy on val when the
 * metadata records them for this threshold. `modelThreshold`: the model's own, when the page's address
 * set another (said so, with the model's).
 */
export function abstentionHtml(metadata: ModelMetadata, genderThreshold: number, modelThreshold: number = genderThreshold): string {
  const fromAddress = genderThreshold !== modelThreshold;
  if (!(genderThreshold > 0.5) && !fromAddress) return '';
  const inference = metadata['inference'] as { genderThreshold?: unknown; genderThresholdVal?: Record<string, unknown> } | undefined;
  const val = inference?.genderThresholdVal;
  const children = val?.['children'] as Record<string, unknown> | undefined;
  const coverage = num(val?.['coverage']);
  const accuracy = num(val?.['accuracy']);
  const childCoverage = num(children?.['coverage']);
  const measured =
    inference?.genderThreshold === genderThreshold && coverage !== null && accuracy !== null
      ? ` On the val split that answers ${pct1(coverage)} of faces, ${pct1(accuracy)} of them matching the annotation${childCoverage !== null ? `; for children under 10 it answers only ${pct1(childCoverage)}` : ''}.`
      : '';
  const source = fromAddress ? ` (set by <code>?genderThreshold=</code> in this page's address; the model's own is ${thresholdPct(modelThreshold)})` : '';
  return `<p id="abstention">The gender is given only when the likelier label's probability reaches <b>${thresholdPct(genderThreshold)}</b>${source}; below that the page says “uncertain”.${measured}</p>`;
}

function licenceHtml(metadata: ModelMetadata): string {
  const l = metadata['licences'] as Record<string, unknown> | undefined;
  const data = typeof l?.['trainingData'] === 'string' ? ` (recorded with the model: “${esc(l['trainingData'])}”)` : '';
  return `<li>Any commercial use: the model is trained on UTKFace, whose licence allows <b>non-commercial research only</b>${data}; the model inherits that restriction.</li>`;
}

/** The "what this is / how accurate / what not to use it for" panel, from the model card's content. */
export function aboutHtml(metadata: ModelMetadata, genderThreshold = 0.5, modelThreshold = genderThreshold): string {
  return `<section class="about" aria-labelledby="about-title">
<h2 id="about-title">About this model</h2>
<h3>What this is</h3>
<p>One neural network (<code>${esc(metadata.name)}</code>) estimates each face's age, with an 80% interval, and the probability of the <b>binary gender label annotated in UTKFace</b>, which is not gender identity. Faces are found by a detector, then aligned and read.</p>
<h3>How accurate</h3>
${accuracyHtml(metadata)}
${abstentionHtml(metadata, genderThreshold, modelThreshold)}
<h3>What not to use it for</h3>
<ul>
<li><b>No decisions about people</b>: not for age verification or age-gating, hiring, credit, insurance, policing, border control, surveillance, or anything that affects someone individually.</li>
<li>Never present the gender output as a person's gender.</li>
${licenceHtml(metadata)}
</ul>
</section>`;
}

/** What the server behind the page can do: find faces (a detector loaded), explain (an explainer given). */
export interface PageFeatures {
  detect: boolean;
  explain: boolean;
}

const ALL_FEATURES: PageFeatures = Object.freeze({ detect: true, explain: true });

/**
 * The upload options: "Explain <target>" only where the server explains, and "detect faces" unticked
 * and disabled where it has no detector (every upload is then read as one tight face crop).
 */
function optionsHtml(features: PageFeatures): string {
  const target = features.explain ? `<label>Explain <select id="target"><option value="gender">gender</option><option value="age">age</option></select></label>\n` : '';
  const detect = features.detect
    ? `<label><input id="detect" type="checkbox" checked> detect faces <span class="hint">(untick for a tight face crop)</span></label>`
    : `<label><input id="detect" type="checkbox" disabled> detect faces <span class="hint">(this server has no face detector: each photo is read as one tight face crop)</span></label>`;
  return `<div class="options">\n${target}${detect}\n</div>`;
}

/**
 * The page for the model's threshold, or for the one the page's address asks (`?genderThreshold=`,
 * passed on to the API by the script through `data-gender-threshold`); a value that is not a
 * threshold is ignored with a note saying so.
 */
export function pageHtml(metadata: ModelMetadata, genderThreshold = 0.5, fromAddress: ReturnType<typeof pageGenderThreshold> = null, features: PageFeatures = ALL_FEATURES): string {
  const asked = fromAddress && 'value' in fromAddress ? fromAddress.value : null;
  const shown = asked ?? genderThreshold;
  const refused = fromAddress && 'refused' in fromAddress ? `<p class="note warn" id="threshold-note">${esc(fromAddress.refused)}; the model's threshold is used.</p>\n` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agegender</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body${asked === null ? '' : ` data-gender-threshold="${asked}"`}${features.explain ? '' : ' data-explain="false"'}>
<main>
<h1>agegender</h1>
${refused}
<p class="note">Choose or drop a photo: each face is boxed and listed with an age estimate (80% interval) and the gender label as annotated in UTKFace, with its probability${features.explain ? '; then the explanation shows which regions drove the answer' : ''}. The photo is processed in memory and not stored.</p>
<button type="button" id="drop" class="drop" aria-describedby="drop-help">
<span class="drop-title">Choose a photo</span>
<span id="drop-help" class="drop-help">or drop one here (${SUPPORTED_FORMATS})</span>
</button>
<input id="file" type="file" accept="image/*,.heic,.heif,.avif" aria-label="photo to analyse" tabindex="-1" hidden>
${optionsHtml(features)}
<div id="status" role="status" aria-live="polite"></div>
<figure id="stage" class="stage"><img id="photo" alt=""></figure>
<ol id="faces" class="faces" aria-label="faces found"></ol>
${aboutHtml(metadata, shown, genderThreshold)}
</main>
</body>
</html>
`;
}

/** GET /, /app.js and /app.css, for the model served and what the server can do. */
export function registerPageRoutes(app: FastifyInstance, model: Pick<AgeGenderModel, 'metadata' | 'genderThreshold'>, features: PageFeatures = ALL_FEATURES): void {
  const html = pageHtml(model.metadata, model.genderThreshold, null, features);
  app.get('/', async (req, reply) => {
    const asked = pageGenderThreshold((req.query as Record<string, unknown> | undefined)?.['genderThreshold']);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(asked === null ? html : pageHtml(model.metadata, model.genderThreshold, asked, features));
  });
  app.get('/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(PAGE_SCRIPT));
  app.get('/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(PAGE_STYLE));
}
