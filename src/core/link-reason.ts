import { readlink } from 'node:fs/promises';
import { fsErrorReason } from './errors.js';

/**
 * Why a path reached in a folder walk cannot be followed: "broken symbolic link (points to …)" for a
 * link whose target is missing, else {@link fsErrorReason} ("symbolic link loop", "permission denied").
 * Used by `predict`'s folder walk and `prepare`'s, so both say the same.
 */
export async function linkFailureReason(path: string, error: unknown): Promise<string> {
  if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
    const target = await readlink(path).catch(() => null);
    if (target !== null) return `broken symbolic link (points to ${target})`;
  }
  return fsErrorReason(error);
}
