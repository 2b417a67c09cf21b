/** RoPE settings as in a Hugging Face config (`rope_theta`, `rope_scaling`). */
export interface RopeSettings {
  headDim: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling | null;
}

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/**
 * Inverse frequencies θ_i = theta^(-2i/d), with Llama 3 or linear scaling applied the way transformers
 * does it, rounded to float32 as torch computes them.
 */
export function inverseFrequencies(settings: RopeSettings): Float32Array {
  const half = settings.headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / settings.ropeTheta ** (Math.fround(2 * i) / settings.headDim);
  const scaling = settings.ropeScaling;
  if (!scaling) return inv;
  if (scaling.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = (inv[i] as number) / scaling.factor;
    return inv;
  }
  const lowWavelen = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highWavelen = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const freq = inv[i] as number;
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) continue;
    if (wavelen > lowWavelen) {
      inv[i] = freq / scaling.factor;
      continue;
    }
    const smooth =
      (scaling.originalMaxPositionEmbeddings / wavelen - scaling.lowFreqFactor) /
      (scaling.highFreqFactor - scaling.lowFreqFactor);
    inv[i] = (1 - smooth) * (freq / scaling.factor) + smooth * freq;
  }
  return inv;
}

/** cos and sin tables [positions, headDim/2] for positions 0..positions-1. */
export function ropeTables(
  settings: RopeSettings,
  positions: number,
): { cos: Float32Array; sin: Float32Array } {
  const inv = inverseFrequencies(settings);
  const half = inv.length;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * (inv[i] as number)); // torch forms the angle in float32
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
