import type { AbstentionSummary } from '../eval/abstention.js';
import type { ModelMetadata } from '../model/api.js';
import { EVALUATE_DEFAULTS, type EvaluationResult } from '../eval/evaluate.js';
import { DECADE_BIAS_MIN_FACES, type PhotoEvaluation } from '../eval/photos.js';
import { percent } from '../core/format.js';
import { expectedCumulativeScore, fitLabelNoise } from '../eval/label-noise.js';
import { fmt } from './charts.js';
import { esc } from './html.js';

export interface ModelCardInput {
  metadata: ModelMetadata;
  evaluation: EvaluationResult;
  /** Files by `prepare` status (the EDA's counts); the card names those dropped as duplicates, for conflicting labels or for a malformed label. */
  statusCounts: Array<{ status: string; count: number }>;
  /** From `summary.json`: how often separate records of byte-identical images agree on their labels. */
  labelAgreement?: { pairs: number; ageEqual: number; ageDifferenceOver8: number; genderDisagree: number } | null;
  /** A `photo-evaluation.json` of this model on photos of another population (e.g. the AAF dev set). */
  photos?: PhotoEvaluation | null;
  /** Gender abstention at the model's threshold on the evaluated split (absent: not stated). */
  abstention?: AbstentionSummary;
}

/**
 * How much of the photo MAE the by-decade bias explains, over the decades with at least
 * DECADE_BIAS_MIN_FACES faces. A file from before that rule recorded the figure over every decade: it is
 * quoted only when every decade with faces has that many (the same figure), else left out.
 */
function biasShare(s: PhotoEvaluation['summary']): string {
  const attribution = '(with the labels: an attribution, not a correction)';
  let b = s.age.decadeBias;
  if (b === undefined) {
    const old = s.age.maeWithoutDecadeBias;
    const withFaces = s.byDecade.filter((d) => d.count > 0);
    if (old === undefined || old === null || s.age.mae === null || withFaces.some((d) => d.count < DECADE_BIAS_MIN_FACES)) return '';
    b = { minFaces: DECADE_BIAS_MIN_FACES, faces: s.age.count, mae: s.age.mae, maeWithout: old };
  }
  if (b === null) return ` No decade has ${DECADE_BIAS_MIN_FACES} faces: too few to tell how much of the MAE is a by-decade shift.`;
  const over = b.faces === s.age.count ? '' : ` Over the ${b.faces} faces in decades with at least ${b.minFaces} (MAE ${fmt(b.mae, 2)}),`;
  const whole = `${over}${over ? ' taking' : ' Taking'} each decade's mean signed error off its faces ${attribution} leaves an MAE of <b>${fmt(b.maeWithout, 2)}</b>`;
  const every = b.faces === s.age.count ? ` (every decade here has at least ${b.minFaces} faces)` : '';
  if (b.maeWithoutExcess === undefined || !s.reference) return `${whole}: ${fmt(b.mae - b.maeWithout, 2)} years of ${over ? 'that' : 'the'} MAE is the by-decade shift${every}.`;
  return `${whole}${every}. That overstates the population's shift: part of each decade's error is the regression to the mean (the young read older, the old younger) that this model shows on its own chips too (the last column: the ${esc(s.reference.split)} split of <code>${esc(s.reference.evaluation)}</code>). Taking off only the part of each decade's error beyond that leaves <b>${fmt(b.maeWithoutExcess, 2)}</b>: ${fmt(b.mae - b.maeWithoutExcess, 2)} years of ${over ? 'that' : 'the'} MAE is the population's shift.`;
}

/** Words for a recorded `AnalyzeOptions.align`. */
function alignmentWords(align: string): string {
  if (align === 'dlib68') return "68 landmarks fitted to the frame UTKFace's chips were cut in (dlib's get_face_chip)";
  if (align === 'five-point') return 'a five-point fit';
  return align;
}

/** The gender threshold (and flip TTA) the photo figures were measured at, against the reported model's threshold. */
function photoSettings(photos: PhotoEvaluation, reportedThreshold: number | undefined): string {
  const recorded = photos.modelIdentity;
  if (recorded?.genderThreshold === undefined) return ' (the gender threshold it was measured at is not recorded)';
  const tta = recorded.flipTta === null || recorded.flipTta === undefined ? '' : `, flip TTA ${recorded.flipTta ? 'on' : 'off'}`;
  const differs = reportedThreshold !== undefined && reportedThreshold !== recorded.genderThreshold ? `, <b>not the model's ${reportedThreshold}</b>: these gender figures are not at the model's setting` : '';
  return ` (measured at gender threshold <b>${recorded.genderThreshold}</b>${tta}${differs})`;
}

/**
 * The photo-path section: how the model does on a labelled photo set it was not trained on, and its
 * signed age error by decade (a population shift shows as one sign across the adult decades).
 * `reportedThreshold`: the gender threshold of the model the report is about, to flag figures measured at another.
 */
export function photoShiftHtml(photos: PhotoEvaluation | null | undefined, reportedThreshold?: number): string {
  if (!photos) return '';
  const s = photos.summary;
  // the sign of the value as shown: −0.003 reads 0.0, not −0.0
  const signed = (v: number | null): string => (v === null ? '–' : fmt(Math.abs(v), 1) === fmt(0, 1) ? fmt(0, 1) : `${v > 0 ? '+' : '−'}${fmt(Math.abs(v), 1)}`);
  // with a reference: the same model's mean signed error on its own test chips, decade by decade
  const reference = new Map((s.reference?.byDecade ?? []).map((d) => [d.decade, d]));
  const referenceCell = (decade: string): string => {
    if (!s.reference) return '';
    const r = reference.get(decade);
    return `<td>${r && r.count > 0 ? `${signed(r.meanError)} (${r.count})` : '–'}</td>`;
  };
  const rows = s.byDecade
    .filter((d) => d.count > 0)
    .map((d) => `<tr><td>${esc(d.decade)}</td><td>${d.count}</td><td>${signed(d.meanError)}</td><td>${fmt(d.mae, 2)}</td>${referenceCell(d.decade)}</tr>`)
    .join('');
  const referenceHead = s.reference ? `<th>mean signed error on ${esc(s.reference.split)} chips (faces)</th>` : '';
  const gender = `${s.gender.accuracy === null ? 'n/a' : `${percent(s.gender.accuracy)} on the ${percent(s.gender.coverage ?? 0)} of faces answered`}${photoSettings(photos, reportedThreshold)}`;
  return `<h3>On photos of another population</h3>
<p>Photo path (${esc(photos.detector ?? 'no detection')}${photos.alignment ? `, chips cut by ${esc(alignmentWords(photos.alignment))}` : ''}) on <code>${esc(photos.photos)}</code>, ${s.photos} labelled photos, evaluated ${esc(photos.createdAt.slice(0, 10))}: a face found in <b>${percent(s.found.share ?? 0)}</b>; age MAE <b>${fmt(s.age.mae, 2)}</b> (mean signed error ${signed(s.age.meanError)}); gender accuracy ${gender}. Signed error is predicted − labelled age: negative means the faces read younger than their labels. A shift of one sign across the adult decades is a difference between populations (and annotators), not noise; training did not see these photos.${biasShare(s)}</p>
<div class="table-wrap"><table><thead><tr><th>labelled age</th><th>faces</th><th>mean signed error (years)</th><th>MAE</th>${referenceHead}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The abstention paragraph: the threshold, coverage and answered accuracy overall and for ages 0–9 (val figures from the metadata). */
export function abstentionNote(metadata: ModelMetadata, split: string, s: AbstentionSummary | undefined): string {
  if (!s) return '';
  const pct = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
  const val = (metadata['inference'] as { genderThresholdVal?: { coverage?: number; accuracy?: number; children?: { coverage?: number; accuracy?: number } } } | undefined)?.genderThresholdVal;
  const onVal = val ? ` On val, where it was chosen: ${pct(val.coverage)} answered at ${pct(val.accuracy)}; ages 0–9 ${pct(val.children?.coverage)} at ${pct(val.children?.accuracy)}.` : '';
  return `<h3>When the gender is "uncertain"</h3>
<p>Gender is answered only when the more likely label's probability is at least <b>${s.threshold}</b>, else it is <code>uncertain</code> (the probability is still returned). On ${esc(split)}: ${pct(s.overall.coverage)} of faces answered at ${pct(s.overall.accuracy)} accuracy (${pct(s.overall.accuracyAll)} if all were answered). <b>Ages 0–9: only ${pct(s.children.coverage)} of faces get a gender</b>, at ${pct(s.children.accuracy)} accuracy (${pct(s.children.accuracyAll)} on all): children's gender is hard to read from the face alone.${onVal}</p>`;
}

/** The label-agreement bullet: the measured disagreement, and the CS@8 a perfect model could reach against such labels. */
export function labelAgreementNote(agreement: ModelCardInput['labelAgreement'], within8: number | null): string {
  if (!agreement || agreement.pairs === 0) return '';
  let ceiling = '';
  // too few pairs, or shares no noise model can produce, and the fit says nothing: leave it out
  if (agreement.pairs >= 30) {
    try {
      const perfect = expectedCumulativeScore(fitLabelNoise({ equal: agreement.ageEqual, over: agreement.ageDifferenceOver8 }, 8), 1e-9, 8);
      ceiling = ` A label-noise model fitted to these pairs puts even a perfect model at about <b>${percent(perfect)}</b> within ±8 years of these labels${within8 === null ? '' : ` (this model: ${percent(within8)})`}; see docs/evaluation.md.`;
    } catch {
      ceiling = '';
    }
  }
  return `<li>Measured: where the data set files the same bytes under two records, the ages differ by more than 8 years in <b>${percent(agreement.ageDifferenceOver8)}</b> of ${agreement.pairs} pairs and the genders in ${percent(agreement.genderDisagree)}.${ceiling}</li>`;
}

/** What the recorded training command / metadata say about `--balance`. */
export function balanceNote(metadata: ModelMetadata): string {
  const recorded = metadata.balance ?? (metadata.training as Record<string, unknown> | undefined)?.balance;
  const command = typeof metadata.command === 'string' ? metadata.command : '';
  const on = recorded !== undefined ? recorded !== false && recorded !== 'none' && recorded !== null : /--balance\b/.test(command);
  const detail = recorded !== undefined && typeof recorded !== 'boolean' ? ` (recorded setting: <code>${esc(JSON.stringify(recorded))}</code>)` : '';
  return on
    ? `This model was trained <b>with</b> <code>--balance</code>${detail}: training evened out the ethnicity × gender × age strata (by re-weighting or re-sampling, as recorded), so that small strata weigh more in the loss. Balancing changes what the training loss sees, not the test set: compare the per-group gaps below with a model trained without it before concluding it helped.`
    : `This model was trained <b>without</b> <code>--balance</code>${detail}: every training face counted once, so the loss is dominated by the largest strata (White, 20–39 years). The gaps above measure the consequence; retrain with <code>--balance</code> and compare the gaps to see what re-weighting changes.`;
}

/** The `prepare` statuses of files that cleaning dropped or flagged: duplicates, conflicting labels, malformed labels. */
const CLEANED_STATUSES: readonly string[] = ['duplicate-exact', 'duplicate-near', 'flagged-near', 'conflict', 'invalid-label'];

function licences(metadata: ModelMetadata): string {
  const l = metadata.licences;
  if (!l || typeof l !== 'object') return '';
  const items = Object.entries(l as Record<string, unknown>).map(([k, v]) => `<li>${esc(k)}: ${esc(v)}</li>`);
  return items.length ? `<ul>${items.join('')}</ul>` : '';
}

/**
 * The model card: intended use, where it must not be deployed, how gender is labelled, the measured
 * biases (from the slice gaps), the balance setting, known label noise, and the data licence.
 */
export function modelCardHtml(input: ModelCardInput): string {
  const { metadata, evaluation } = input;
  const gaps = evaluation.slices
    .filter((s) => s.dimensions.length === 1 || s.name === 'ethnicity × gender')
    .flatMap((s) =>
      s.gaps
        .filter((g) => (g.metric === 'mae' || g.metric === 'accuracy') && g.best && g.worst)
        .map(
          (g) =>
            `<li>${esc(s.name)} — ${g.metric === 'mae' ? 'age MAE' : 'gender accuracy'}: best <b>${esc(g.best!.name)}</b> ${fmt(g.best!.value)} (n=${g.best!.count}), worst <b>${esc(g.worst!.name)}</b> ${fmt(g.worst!.value)} (n=${g.worst!.count}); gap ${fmt(g.gap)}.</li>`,
        ),
    );
  // the group size the gaps were computed over (each slicing records it; older files: the default)
  const minGroupSize = evaluation.slices[0]?.minGroupSize ?? EVALUATE_DEFAULTS.minGroupSize;
  const bigErrors = evaluation.bestWorst.age.worst.filter((s) => s.score > 20).length;
  const noisy = input.statusCounts.filter((s) => CLEANED_STATUSES.includes(s.status) && s.count > 0);
  return `<div class="card">
<h3>Model</h3>
<p><b>${esc(metadata.name)}</b>, encoder <code>${esc(metadata.encoder)}</code>, input ${esc(metadata.inputSize)}×${esc(metadata.inputSize)}, created ${esc(metadata.createdAt)}. One network with two heads: expected age (with an 80% interval) and the probability of the <code>female</code> label.${(metadata['inference'] as { flipTta?: boolean } | undefined)?.flipTta ? ' Inference averages each chip with its mirror image (flip test-time augmentation, chosen on val).' : ''}</p>
<p>Evaluated on the <b>${esc(evaluation.split)}</b> split (${evaluation.counts.evaluated} faces): age MAE ${fmt(evaluation.age.mae, 2)} years (95% CI ${fmt(evaluation.ci.mae?.low, 2)}–${fmt(evaluation.ci.mae?.high, 2)}), ${fmt((evaluation.age.within8 ?? NaN) * 100, 1)}% within ±8 years; gender accuracy ${fmt(evaluation.gender.accuracy)} (95% CI ${fmt(evaluation.ci.accuracy?.low)}–${fmt(evaluation.ci.accuracy?.high)}), ROC-AUC ${fmt(evaluation.gender.rocAuc)}, ECE ${fmt(evaluation.gender.ece)}.</p>
${abstentionNote(metadata, evaluation.split, input.abstention)}
<h3>Intended uses</h3>
<ul><li>Research and teaching on age/gender estimation and on auditing such models for bias.</li>
<li>Aggregate, consented analyses of aligned face chips like UTKFace's (200×200, frontal, cropped), where an error of several years is acceptable and nobody is affected individually.</li></ul>
<h3>Where it must NOT be deployed</h3>
<ul class="warn"><li>Decisions about individuals: age verification or age-gating (alcohol, gambling, online content, child-safety), hiring, credit, insurance, housing, medical triage.</li>
<li>Law enforcement, border control, immigration, surveillance or tracking of people, identifying or profiling anyone.</li>
<li>Inferring anyone's gender identity, or any use that assigns gender to a person (see below).</li>
<li>Commercial products of any kind (the training data's licence forbids it), and faces unlike the training chips (uncropped photos, profiles, occlusions, low light, children's images collected without consent).</li></ul>
<h3>How gender is labelled</h3>
<p>The gender output is the probability of a <b>binary label as annotated in UTKFace</b> (0 = male, 1 = female), assigned by annotators from appearance. It is <b>not gender identity</b>, says nothing about non-binary people, and must never be presented as a person's gender.</p>
<h3>Measured biases (best vs worst group, groups with ≥ ${minGroupSize} faces)</h3>
<ul>${gaps.join('') || '<li>No group is large enough to compare.</li>'}</ul>
<p>Intervals are 95% percentile bootstrap (${evaluation.bootstrap.replicates} resamples); a gap whose group intervals overlap is not evidence of a difference. Small groups (see the tables) carry wide intervals: absence of a measured gap is not evidence of fairness.</p>
${photoShiftHtml(input.photos, evaluation.model.genderThreshold)}
<h3>What <code>--balance</code> changed</h3>
<p>${balanceNote(metadata)}</p>
<h3>Known label noise</h3>
<ul><li>UTKFace ages and genders were annotated from appearance (partly estimated by software, then checked by people): the worst-error gallery above includes faces whose annotation looks wrong (${bigErrors} of the ${evaluation.bestWorst.age.worst.length} worst age errors are over 20 years).</li>
${labelAgreementNote(input.labelAgreement, evaluation.age.within8)}
<li>Round ages (30, 40, 50 …) and age 1 are over-represented: annotators rounded. Ages above 90 are rare and often doubtful (e.g. 116).</li>
<li>The data holds near-duplicate frames and byte-identical copies, some with different labels; cleaning removed or flagged them${noisy.length ? ` (${noisy.map((s) => `${s.count} ${esc(s.status)}`).join(', ')})` : ''}.</li>
<li>Ethnicity labels use five coarse categories (White, Black, Asian, Indian, Others); "Others" lumps Hispanic, Latino and Middle Eastern faces together.</li></ul>
<h3>Data and licence</h3>
${licences(metadata)}<p>Trained and evaluated on UTKFace (Zhang, Song, Qi, CVPR 2017). The dataset is available for <b>non-commercial research purposes only</b>; its images remain the property of their owners. This model inherits that restriction.</p>
</div>`;
}
