import { Rng } from '../engine/rng.js';
import { deriveSeed, shuffleInPlace, type MixPlan } from './mixing.js';

/** Target id of a position that is not trained on (prompt, BOS, padding). */
export const IGNORE_INDEX = -100;

export interface Batch {
  /** Inputs, row-major [batch, seqLen]. */
  ids: Int32Array;
  /** Next-token targets [batch, seqLen]; IGNORE_INDEX (-100) where masked. */
  targets: Int32Array;
  /** Rows in this batch (the last batch may be short unless dropLast). */
  batch: number;
  seqLen: number;
  /** 0-based step of this batch. */
  step: number;
  /** Epoch (pass over the mix) of the batch's first row. */
  epoch: number;
  /** Targets that are trained on (not IGNORE_INDEX): the loss's denominator. */
  trainTargets: number;
}

export interface BatchPlanOptions {
  batchSize: number;
  /** Passes over the mix (default 1). Epochs after the first use a fresh seeded order of the mix. */
  epochs?: number;
  /** Leave out a final short batch (default false). */
  dropLast?: boolean;
}

/** Everything a batch stream is a function of: step k always yields the same batch. */
export interface BatchPlan {
  readonly mix: MixPlan;
  readonly batchSize: number;
  readonly epochs: number;
  readonly dropLast: boolean;
  /** Windows served in all: mix.length × epochs. */
  readonly totalWindows: number;
  readonly totalSteps: number;
  readonly seqLen: number;
}

export function batchPlan(mix: MixPlan, options: BatchPlanOptions): BatchPlan {
  const { batchSize } = options;
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be >= 1, got ${batchSize}`);
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`epochs must be an integer >= 1, got ${epochs}`);
  const dropLast = options.dropLast ?? false;
  const totalWindows = mix.length * epochs;
  const totalSteps = dropLast ? Math.floor(totalWindows / batchSize) : Math.ceil(totalWindows / batchSize);
  return { mix, batchSize, epochs, dropLast, totalWindows, totalSteps, seqLen: mix.seqLen };
}

/**
 * Order of the mix's positions in a given epoch: epoch 0 is the mix order itself, later epochs a permutation
 * derived from (mix seed, epoch). Cached per plan so a run does not reshuffle for every batch.
 */
const epochOrders = new WeakMap<MixPlan, Map<number, Uint32Array>>();

function epochOrder(mix: MixPlan, epoch: number): Uint32Array | undefined {
  if (epoch === 0) return undefined;
  let cache = epochOrders.get(mix);
  if (!cache) {
    cache = new Map();
    epochOrders.set(mix, cache);
  }
  let order = cache.get(epoch);
  if (!order) {
    order = new Uint32Array(mix.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    shuffleInPlace(order, new Rng(deriveSeed(mix.seed, 3, epoch)));
    cache.clear(); // only the current epoch is needed
    cache.set(epoch, order);
  }
  return order;
}

/** The batch of a given step (random access; batchesFrom iterates these). */
export function batchAt(plan: BatchPlan, step: number): Batch {
  if (!Number.isInteger(step) || step < 0 || step >= plan.totalSteps) {
    throw new RangeError(`step ${step} out of range (0..${plan.totalSteps - 1})`);
  }
  const { mix, seqLen } = plan;
  const first = step * plan.batchSize;
  const rows = Math.min(plan.batchSize, plan.totalWindows - first);
  const ids = new Int32Array(rows * seqLen);
  const targets = new Int32Array(rows * seqLen);
  let trainTargets = 0;
  for (let r = 0; r < rows; r++) {
    const slot = first + r;
    const epoch = Math.floor(slot / mix.length);
    const within = slot - epoch * mix.length;
    const position = epochOrder(mix, epoch)?.[within] ?? within;
    const w = mix.window(position);
    const base = r * seqLen;
    ids.set(w.ids.subarray(0, seqLen), base);
    for (let t = 0; t < seqLen; t++) {
      if (w.mask[t + 1]) {
        targets[base + t] = w.ids[t + 1] as number;
        trainTargets++;
      } else targets[base + t] = IGNORE_INDEX;
    }
  }
  return { ids, targets, batch: rows, seqLen, step, epoch: Math.floor(first / mix.length), trainTargets };
}

/**
 * Batches from `step` to the end of the plan. A crashed run resumes with `batchesFrom(plan, stepsDone)` and
 * gets exactly the batches an uninterrupted run would have seen next.
 */
export function* batchesFrom(plan: BatchPlan, step = 0): Generator<Batch> {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be an integer >= 0, got ${step}`);
  for (let s = step; s < plan.totalSteps; s++) yield batchAt(plan, s);
}
