/** A share as a percentage with one decimal. @example percent(0.1779) // '17.8%' */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
