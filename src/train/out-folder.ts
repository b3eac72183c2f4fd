/**
 * Where `train` may write its model folder: not the shipped model (a run never replaces it; copy a
 * trained folder over it to do that), not the workspace itself or a folder holding it, and not
 * inside the workspace folders other steps own (feature cache, checkpoints, evaluations, splits).
 * A folder of its own inside the workspace (`<workspace>/exp/<name>`) is fine. The folder is replaced
 * as a whole when the model is ready (train.ts), so an existing one must be empty or a model folder.
 *
 * @example
 *   checkTrainOut(resolve('workspace/utk/exp/run1'), resolve('workspace/utk')); // fine
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AgeGenderError } from '../core/errors.js';
import { defaultModelDir, ENCODER_LICENSE_FILE, MODEL_FILES } from '../model/folder.js';
import { WORKSPACE_FILES } from '../workspace/layout.js';

/** `path` resolved, with links followed as far as the path exists. */
function realPath(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realPath(parent), relative(parent, abs));
}

/** True when `inner` is `outer` or lies under it. */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Throws INVALID_ARGUMENT naming `out` when a model folder may not be written there (see the module comment). */
export function checkTrainOut(out: string, workspace: string): void {
  const o = realPath(out);
  const ws = realPath(workspace);
  const fail = (reason: string): never => {
    throw new AgeGenderError('INVALID_ARGUMENT', `cannot write the model here: ${reason}`, { subject: out });
  };
  if (o === realPath(defaultModelDir())) fail(`this is the shipped model folder; train into another folder and copy its files over ${defaultModelDir()} to replace it`);
  if (within(ws, o)) fail(`the workspace ${workspace} is ${o === ws ? 'this folder' : 'inside it'}; write the model to a folder of its own (e.g. ${join(workspace, 'exp', 'model')})`);
  for (const owned of [dirname(WORKSPACE_FILES.featureCache), WORKSPACE_FILES.checkpoints, WORKSPACE_FILES.evaluation, WORKSPACE_FILES.splits]) {
    const folder = join(ws, owned);
    if (within(o, folder)) fail(`it is inside the workspace's ${owned} folder, which train and other commands write; write the model to a folder of its own (e.g. ${join(workspace, 'exp', 'model')})`);
  }
}

/**
 * Throws INVALID_ARGUMENT naming `out` when it is an existing folder holding anything but a model's
 * files: train replaces the whole folder, and would remove them.
 */
export function checkReplaceable(out: string): void {
  if (!existsSync(out) || !statSync(out).isDirectory()) return;
  const ours = new Set<string>([...Object.values(MODEL_FILES), ENCODER_LICENSE_FILE]);
  const others = readdirSync(out).filter((name) => !ours.has(name));
  if (others.length > 0) {
    throw new AgeGenderError('INVALID_ARGUMENT', `cannot write the model here: the folder holds ${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''}, which are not model files; train replaces the whole folder, so give an empty or new folder (or a model folder)`, { subject: out });
  }
}
