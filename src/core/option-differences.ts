/**
 * What differs between the options an earlier run recorded and this run's, in words, so a resume
 * refused for it can say which to change.
 *
 * @example optionDifferences({ limit: 20, detect: true }, { limit: 40, detect: true }) // ['limit 20 → 40']
 */

/** The fields of `was` and `now` whose values differ (as JSON), as `name earlier → now`; a missing one reads `(default)`. */
export function optionDifferences(was: Readonly<Record<string, unknown>>, now: Readonly<Record<string, unknown>>): string[] {
  const show = (v: unknown): string => (v === undefined ? '(default)' : JSON.stringify(v));
  return [...new Set([...Object.keys(was), ...Object.keys(now)])]
    .filter((name) => JSON.stringify(was[name]) !== JSON.stringify(now[name]))
    .map((name) => `${name} ${show(was[name])} → ${show(now[name])}`);
}
