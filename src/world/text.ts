/** Small text helpers shared by the renderers. */

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Capitalises the first letter of a sentence built from fragments ("he was..." -> "He was..."). */
export function sentence(s: string): string {
  return capitalize(s.trim());
}

/** "A, B and C". */
export function listJoin(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
