/**
 * Training events and the callbacks that listen to them. Callbacks never mutate the trainer:
 * they observe, write files, or answer `{ stop: true }` from `onEpochEnd`.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgeGenderError } from '../core/errors.js';

export type TrainEventName = 'trainBegin' | 'stageBegin' | 'epochBegin' | 'batchEnd' | 'epochEnd' | 'stageEnd' | 'checkpoint' | 'resume' | 'extract' | 'trainEnd';

export interface BatchLogs {
  stage: 1 | 2;
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  ageLoss: number;
  genderLoss: number;
  /** With `consistency` > 0 in stage 2: the unweighted consistency losses, apart from the task losses. */
  consistencyLoss?: number;
  lr: number;
}

export interface EpochLogs {
  stage: 1 | 2;
  epoch: number;
  epochs: number;
  loss: number;
  ageLoss: number;
  genderLoss: number;
  /** With `consistency` > 0 in stage 2: the epoch's unweighted consistency losses, apart from the task losses. */
  consistencyLoss?: number;
  valMae: number;
  valCs8: number;
  valGenderAccuracy: number;
  valAgeLoss: number;
  valGenderLoss: number;
  seconds: number;
  lr: number;
}

export interface StageInfo {
  stage: 1 | 2;
  epochs: number;
  startEpoch: number;
  trainCount: number;
  valCount: number;
}

export interface TrainCallback {
  readonly name: string;
  onTrainBegin?(info: { trainCount: number; valCount: number }): void | Promise<void>;
  onStageBegin?(info: StageInfo): void | Promise<void>;
  onEpochBegin?(info: { stage: 1 | 2; epoch: number; epochs: number }): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs): void | Promise<void>;
  /** Return `{ stop: true }` to end the stage after this epoch. */
  onEpochEnd?(logs: EpochLogs): void | { stop: boolean } | Promise<void | { stop: boolean }>;
  onStageEnd?(info: { stage: 1 | 2; bestEpoch: number; bestValMae: number }): void | Promise<void>;
  onEvent?(event: TrainEventName, data: Record<string, unknown>): void | Promise<void>;
  onTrainEnd?(info: Record<string, unknown>): void | Promise<void>;
}

/**
 * The callbacks of one run, or of one stage of it, called in order. Built for the run and never
 * changed: a stage that needs one more (its early stopping) gets a new list from `with`.
 *
 * @example
 *   const run = new CallbackList([nanGuard(), consoleLogger(log)]);
 *   const stage = run.with(earlyStopping({ patience: 2 }));
 *   if (await stage.epochEnd(logs)) break;
 */
export class CallbackList {
  readonly callbacks: readonly TrainCallback[];

  constructor(callbacks: readonly TrainCallback[]) {
    this.callbacks = Object.freeze([...callbacks]);
  }

  /**
   * Calls `hook` of every callback in order. An AgeGenderError (e.g. the NaN guard's) passes as it is;
   * any other error is rethrown naming the callback and the hook, with the original as its `cause`.
   */
  private async each<R>(hook: string, call: (cb: TrainCallback) => R | Promise<R>): Promise<R[]> {
    const results: R[] = [];
    for (const cb of this.callbacks) {
      try {
        results.push(await call(cb));
      } catch (error) {
        if (error instanceof AgeGenderError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`training callback "${cb.name}" failed in ${hook}: ${message}`, { cause: error });
      }
    }
    return results;
  }

  /** A new list: these callbacks, then `more`. */
  with(...more: TrainCallback[]): CallbackList {
    return new CallbackList([...this.callbacks, ...more]);
  }

  async trainBegin(info: { trainCount: number; valCount: number }): Promise<void> {
    await this.each('onTrainBegin', (cb) => cb.onTrainBegin?.(info));
  }

  async stageBegin(info: StageInfo): Promise<void> {
    await this.each('onStageBegin', (cb) => cb.onStageBegin?.(info));
  }

  async epochBegin(info: { stage: 1 | 2; epoch: number; epochs: number }): Promise<void> {
    await this.each('onEpochBegin', (cb) => cb.onEpochBegin?.(info));
  }

  async batchEnd(logs: BatchLogs): Promise<void> {
    await this.each('onBatchEnd', (cb) => cb.onBatchEnd?.(logs));
  }

  /** Calls every callback; true when any of them asked to stop the stage. */
  async epochEnd(logs: EpochLogs): Promise<boolean> {
    const answers = await this.each('onEpochEnd', (cb) => cb.onEpochEnd?.(logs));
    return answers.some((r) => Boolean(r && r.stop));
  }

  async stageEnd(info: { stage: 1 | 2; bestEpoch: number; bestValMae: number }): Promise<void> {
    await this.each('onStageEnd', (cb) => cb.onStageEnd?.(info));
  }

  async emit(event: TrainEventName, data: Record<string, unknown>): Promise<void> {
    await this.each(`onEvent(${event})`, (cb) => cb.onEvent?.(event, data));
  }

  async trainEnd(info: Record<string, unknown>): Promise<void> {
    await this.each('onTrainEnd', (cb) => cb.onTrainEnd?.(info));
  }
}

/** Stops training with TRAINING_DIVERGED when a loss is NaN or infinite. */
export function nanGuard(): TrainCallback {
  const check = (what: string, v: number, where: string): void => {
    if (!Number.isFinite(v)) {
      throw new AgeGenderError('TRAINING_DIVERGED', `${what} is ${String(v)} at ${where}; lower the learning rate or check the data`, { subject: 'train' });
    }
  };
  return {
    name: 'nanGuard',
    onBatchEnd(l) {
      const where = `stage ${l.stage} epoch ${l.epoch} batch ${l.batch}`;
      check('loss', l.loss, where);
      check('age loss', l.ageLoss, where);
      check('gender loss', l.genderLoss, where);
      if (l.consistencyLoss !== undefined) check('consistency loss', l.consistencyLoss, where);
    },
    onEpochEnd(l) {
      check('validation MAE', l.valMae, `stage ${l.stage} epoch ${l.epoch}`);
    },
  };
}

/**
 * Early stopping on validation MAE: stops after `patience` epochs without an improvement of `minDelta`.
 * Epochs up to `graceEpochs` never count against it — under a decaying schedule the first,
 * high-learning-rate epochs of fine-tuning often get worse before they get better. `seen` primes it
 * with the stage's epochs already run, so a resumed run stops exactly where an uninterrupted one would.
 */
export function earlyStopping(options: { patience: number; minDelta?: number; graceEpochs?: number; seen?: ReadonlyArray<{ epoch: number; valMae: number }> }): TrainCallback & { readonly stopped: boolean } {
  let best = Infinity;
  let bad = 0;
  const observe = (epoch: number, mae: number): void => {
    if (mae < best - (options.minDelta ?? 0)) {
      best = mae;
      bad = 0;
    } else if (epoch > (options.graceEpochs ?? 0)) bad += 1;
  };
  for (const e of options.seen ?? []) observe(e.epoch, e.valMae);
  const stop = (): boolean => bad >= options.patience;
  return {
    name: 'earlyStopping',
    /** True when the epochs seen so far call for a stop (e.g. a resumed stage that had stopped early). */
    get stopped() {
      return stop();
    },
    onEpochEnd: (l) => {
      observe(l.epoch, l.valMae);
      return { stop: stop() };
    },
  };
}

/** Appends one JSON object per event to a JSONL file. */
export function jsonlLogger(path: string): TrainCallback {
  const write = async (record: Record<string, unknown>): Promise<void> => {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  };
  return {
    name: 'jsonlLogger',
    onEpochEnd: async (l) => {
      await write({ event: 'epochEnd', ...l });
    },
    onEvent: async (event, data) => {
      await write({ event, ...data });
    },
  };
}

/** Plain-text epoch lines for logs (no TTY needed). */
export function consoleLogger(log: (line: string) => void): TrainCallback {
  return {
    name: 'consoleLogger',
    onStageBegin(i) {
      log(`stage ${i.stage}: ${i.epochs} epochs from epoch ${i.startEpoch}, ${i.trainCount} train / ${i.valCount} val`);
    },
    onEpochEnd(l) {
      log(
        `stage ${l.stage} epoch ${l.epoch}/${l.epochs}: loss ${l.loss.toFixed(4)} (age ${l.ageLoss.toFixed(4)}, gender ${l.genderLoss.toFixed(4)}${l.consistencyLoss === undefined ? '' : `, consistency ${l.consistencyLoss.toFixed(4)}`}) ` +
          `| val MAE ${l.valMae.toFixed(3)} CS@8 ${(l.valCs8 * 100).toFixed(1)}% gender ${(l.valGenderAccuracy * 100).toFixed(2)}% | ${l.seconds.toFixed(1)}s`,
      );
    },
    onEvent(event, data) {
      if (event === 'resume' || event === 'checkpoint' || event === 'extract') log(`${event}: ${JSON.stringify(data)}`);
    },
  };
}
