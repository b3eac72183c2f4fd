/**
 * agegender — age and gender estimation from faces with one network, plus the workflow around it.
 *
 * @example
 *   import { loadModel } from 'agegender';
 *   const model = await loadModel();                 // the shipped model
 *   const p = await model.predict('face-chip.jpg');  // { age, ageInterval, gender, genderProbability, femaleProbability }
 *   model.dispose();
 *
 * @example Ordinary photos: detect, align, predict every face
 *   import { loadModel, loadFaceDetector, loadImageInput, analyzeImage } from 'agegender';
 *   const [model, detector] = await Promise.all([loadModel(), loadFaceDetector()]);
 *   const { faces } = await analyzeImage(model, detector, await loadImageInput('group-photo.jpg'), { detect: true });
 *   model.dispose(); detector.dispose(); // frees what they loaded, the 68-landmark net the photo path used included
 */
export type { AgeGenderPrediction, FaceLabels, Gender, Ethnicity, ManifestRow, SplitName } from './core/types.js';
export { GENDERS, ETHNICITIES, SPLITS } from './core/types.js';
export { AgeGenderError, ERROR_CODES, type ErrorCode } from './core/errors.js';
export { genderAnswer, GENDER_ANSWERS, NO_ABSTENTION, type GenderAnswer } from './core/gender.js';
export { abstentionSummary, chooseGenderThreshold, coverageAt, type AbstentionSummary, type CoveragePoint } from './eval/abstention.js';
export type { ImageInput, RawImage } from './io/types.js';
export { decodeImage, loadImageInput, readImageHeader, sniffImageType, type DecodeOptions, type ImageFormat, type ImageHeader } from './io/decode.js';

// data
export { prepare, type PrepareOptions } from './data/prepare.js';
export type { PrepareSummary } from './workspace/summary.js';
export { readManifest, rowsOfSplit } from './workspace/manifest.js';
export { parseUtkName } from './data/labels.js';
export { phashOfBytes, hammingHex } from './data/phash.js';
export { findNearPairs, hashTableFromHex, type NearPair } from './data/hamming-index.js';

// model
export { loadModel, defaultModelDir, initBackend, type AgeGenderModel, type ModelMetadata, type ModelFingerprint, type LoadModelOptions, type InferenceChoice, type InferenceSettings, type RuntimeName, type RuntimeOptions, type RuntimePreference } from './model/index.js';
export type { ModelSource } from './model/load.js';
export { train, type TrainOptions, type TrainResult } from './train/train.js';

// evaluation and explanation
export { evaluate, type EvaluationResult } from './eval/evaluate.js';
export { explainImage, lime, occlusionSensitivity, type ExplainOptions, type ExplainResult, type LimeExplanation } from './explain/index.js';
export { buildReport } from './report/build.js';

// use
export { loadFaceDetector, type CountedFaces, type DetectorName, type DetectorOptions, type DetectorPreference, type FaceBox, type FaceDetector, type DetectedFace, type Point } from './pipeline/detect.js';
export { alignFace } from './pipeline/align.js';
export { analyzeImage, analyzeOrNoFaces, detectFaces, type AlignMethod, type AnalyzeOptions, type AnalyzeResult, type AnalyzedFace, type FaceReport, type PhotoReport } from './pipeline/analyze.js';
export type { QuarterTurn } from './pipeline/turn.js';
export { gateChip, imageStats, faceQuality, QUALITY_GATE, type FaceQuality } from './pipeline/quality.js';
export { buildServer } from './server/app.js';
export { pipeline, type AgeGenderPipeline, type PipelineOptions, type PipelineResult } from './pipeline/estimator.js';
export { predictFiles, type PredictFace, type PredictFilesOptions, type PredictFileResult, type PredictSummary } from './pipeline/predict-files.js';
export { predictToFile, type PredictToFileOptions, type PredictToFileSummary } from './pipeline/predict-output.js';

// the photo path, scored
export { evaluatePhotos, spreadSubset, largestFace, PHOTO_EVALUATION_FILES, type EvaluatePhotosOptions, type PhotoEvaluation, type PhotoEvaluationRun } from './workflow/evaluate-photos.js';
export { parsePhotoLabels, summarisePhotos, signedErrorByDecade, photoRecordsCsv, type PhotoLabel, type PhotoRecord, type PhotoEvaluationSummary, type DecadeError } from './eval/photos.js';
export { loadYunetDetector, type YunetOptions } from './pipeline/yunet.js';
export { fitSimilarity, applySimilarity, invertSimilarity, composeSimilarity, chipTemplate, type Similarity, type ChipTemplate } from './pipeline/align.js';
export { loadLandmarks68, sharedLandmarks68, type Landmarks68 } from './pipeline/landmarks68.js';
export { dlibMeanFace, dlibTemplate, dlibChipToImage, parseDlibTemplate, shapeResidual, DLIB_FIRST_LANDMARK, type DlibTemplate } from './pipeline/align-dlib.js';
