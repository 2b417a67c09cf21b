/**
 * Okabe & Ito's palette (2008), distinguishable under the common colour-vision deficiencies. Yellow comes last
 * because it is faint on white paper; past eight series the colours repeat (line charts still differ by marker).
 */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#000000',
  '#F0E442',
];

/** Marker shapes, a second cue beside colour for print in grey and for colour-blind readers. */
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross'] as const;
export type MarkerShape = (typeof MARKERS)[number];

/**
 * Gives each series name a stable slot in order of first sight, so a method keeps one colour (and marker)
 * in every chart of a report.
 */
export class SeriesColors {
  private readonly slots = new Map<string, number>();

  constructor(names: Iterable<string> = []) {
    for (const name of names) this.index(name);
  }

  index(name: string): number {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(name, slot);
    }
    return slot;
  }

  color(name: string): string {
    return PALETTE[this.index(name) % PALETTE.length] as string;
  }

  marker(name: string): MarkerShape {
    return MARKERS[this.index(name) % MARKERS.length] as MarkerShape;
  }
}
