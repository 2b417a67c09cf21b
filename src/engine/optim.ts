import type { Kernels } from './kernels/types.js';
import type { Tensor } from './tensor.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * AdamW (decoupled weight decay, PyTorch semantics). Following the Hugging Face Trainer, 1-D parameters
 * (RMSNorm gains, biases) get no weight decay. The step itself runs in the kernels (a C loop natively).
 */
export class AdamW {
  private readonly state = new Map<Tensor, { m: Float32Array; v: Float32Array; decay: boolean }>();
  private t = 0;

  constructor(
    params: Iterable<[string, Tensor]>,
    private readonly kernels: Kernels,
    private readonly options: AdamWOptions,
  ) {
    for (const [, p] of params) {
      if (!p.requiresGrad) continue;
      this.state.set(p, {
        m: new Float32Array(p.size),
        v: new Float32Array(p.size),
        decay: p.shape.length > 1,
      });
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /** One update with learning rate `lr` (default: the constructor's). Parameters without a gradient are skipped. */
  step(lr = this.options.lr): void {
    this.t++;
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = this.options;
    for (const [p, s] of this.state) {
      if (!p.grad) continue;
      this.kernels.adamw(p.data, p.grad, s.m, s.v, lr, beta1, beta2, eps, s.decay ? weightDecay : 0, this.t);
    }
  }

  zeroGrad(): void {
    for (const p of this.state.keys()) p.zeroGrad();
  }

  /** Optimizer state for checkpoints. */
  exportState(): { step: number; moments: Array<{ m: Float32Array; v: Float32Array }> } {
    return { step: this.t, moments: [...this.state.values()].map(({ m, v }) => ({ m, v })) };
  }

  importState(saved: { step: number; moments: Array<{ m: Float32Array; v: Float32Array }> }): void {
    const slots = [...this.state.values()];
    if (saved.moments.length !== slots.length) throw new Error('optimizer state does not match the model');
    slots.forEach((slot, i) => {
      slot.m.set((saved.moments[i] as { m: Float32Array }).m);
      slot.v.set((saved.moments[i] as { v: Float32Array }).v);
    });
    this.t = saved.step;
  }
}

/** Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const list = [...params].filter((p) => p.grad);
  let sum = 0;
  for (const p of list) {
    // Indexed loops with locals: a for-of over a typed array is several times slower here.
    const g = p.grad as Float32Array;
    let s = 0;
    for (let i = 0; i < g.length; i++) s += (g[i] as number) * (g[i] as number);
    sum += s;
  }
  const norm = Math.sqrt(sum);
  if (norm > maxNorm && norm > 0) {
    const scale = maxNorm / (norm + 1e-6);
    for (const p of list) {
      const g = p.grad as Float32Array;
      for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * scale;
    }
  }
  return norm;
}

export type Schedule = 'cosine' | 'linear' | 'constant';

/**
 * Learning rate at `step` (0-based): linear warmup over `warmup` steps, then cosine or linear decay to
 * `minRatio` × base at `total` steps, or constant.
 */
export function learningRate(
  step: number,
  options: { base: number; warmup: number; total: number; schedule: Schedule; minRatio?: number },
): number {
  const { base, warmup, total, schedule, minRatio = 0 } = options;
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  if (schedule === 'constant') return base;
  const progress = Math.min(1, Math.max(0, (step - warmup) / Math.max(1, total - warmup)));
  const factor = schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return base * (minRatio + (1 - minRatio) * factor);
}
