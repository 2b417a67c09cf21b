/**
 * Reusable Float32Array buffers for one training step's activations and their gradients. A fresh multi-
 * megabyte array per activation costs page faults and zeroing on every step (most of a tiny model's step
 * time); the arena hands the same memory out again after `reset()`, zeroed. Buffers are matched by size.
 */
export class Arena {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly used = new Set<Float32Array>();

  /** A zeroed buffer of `size` floats, valid until the next `reset()`. */
  take(size: number): Float32Array {
    const buffer = this.free.get(size)?.pop();
    const out = buffer ? buffer.fill(0) : new Float32Array(size);
    this.used.add(out);
    return out;
  }

  /** Like `take` without the zeroing: only for buffers the caller overwrites completely before reading. */
  takeUninitialized(size: number): Float32Array {
    const out = this.free.get(size)?.pop() ?? new Float32Array(size);
    this.used.add(out);
    return out;
  }

  /** Hands one buffer back before the reset (the backward pass frees activations it is done with). */
  release(buffer: Float32Array | undefined): void {
    if (!buffer || !this.used.delete(buffer)) return;
    let list = this.free.get(buffer.length);
    if (!list) this.free.set(buffer.length, (list = []));
    list.push(buffer);
  }

  /** Everything taken since the last reset becomes reusable. */
  reset(): void {
    for (const buffer of [...this.used]) this.release(buffer);
  }
}
