/** A share as a percentage with one decimal. @example percent(0.1779) // '17.8%' */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Seconds as `1 h 02 min`, `3 min 05 s` or `42 s`. @example formatDuration(3725) // '1 h 02 min' */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/** A count with its noun, singular for 1. @example count(1, 'file') // '1 file'; count(2, 'face') // '2 faces' */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A probability as a whole percentage, never "100%" or "0%" (a softmax that saturates in float32 is still not certain), as the page shows it. @example probabilityPercent(0.9996) // '>99%' */
export function probabilityPercent(p: number): string {
  if (p > 0.99) return '>99%';
  if (p < 0.01) return '<1%';
  return `${Math.round(p * 100)}%`;
}
