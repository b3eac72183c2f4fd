/**
 * The chip path's core with detection off: each chip through the quality gate, one at a time, then
 * the chips that pass predicted together (a failing batch retried one by one, so one bad chip cannot
 * sink the others). Runs in-process (`predictFiles` with one worker) and inside each predict worker
 * (`--no-detect --workers N`), so both give the same rows.
 *
 * @example
 *   const outcomes = await gateAndPredict((images) => model.predictBatch(images), detector, [{ image, subject: 'a.jpg' }]);
 *   // [{ prediction, quality }] or [{ error }] (NO_USABLE_FACE for a blank image)
 */
import type { AgeGenderPrediction } from '../core/types.js';
import type { RawImage } from '../io/types.js';
import type { FaceDetector } from './detect.js';
import { gateChip, type FaceQuality } from './quality.js';

/** One decoded chip and the file it came from (named in its errors). */
export interface SubjectChip {
  image: RawImage;
  subject: string;
}

/** A chip's prediction and quality, or why it has none. */
export type ChipOutcome<E = unknown> = { prediction: AgeGenderPrediction; quality: FaceQuality } | { error: E };

/** Predictions for a batch of images, in order. */
export type BatchPredictor = (images: RawImage[]) => Promise<AgeGenderPrediction[]>;

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Gates every chip (with `detector` confirming a face when it can), predicts those that pass; outcomes in input order. */
export async function gateAndPredict(predict: BatchPredictor, detector: FaceDetector | null, chips: readonly SubjectChip[]): Promise<ChipOutcome[]> {
  const gated: Array<{ quality: FaceQuality } | { error: unknown }> = [];
  for (const c of chips) gated.push(await gateChip(c.image, detector, c.subject).then(({ quality }) => ({ quality }), (error: unknown) => ({ error })));
  const good = chips.filter((_, i) => 'quality' in gated[i]!).map((c) => c.image);
  let predictions: Array<AgeGenderPrediction | Error>;
  try {
    predictions = good.length > 0 ? await predict(good) : [];
  } catch {
    predictions = [];
    for (const image of good) predictions.push(await predict([image]).then((p) => p[0] ?? new Error('no prediction'), asError));
  }
  let k = 0;
  return gated.map((g) => {
    if ('error' in g) return g;
    const p = predictions[k++];
    if (!p || p instanceof Error) return { error: p ?? new Error('no prediction') };
    return { prediction: p, quality: g.quality };
  });
}
