import type { Arena } from './arena.js';

/**
 * The engine's tensor: a flat Float32Array in row-major order with a shape, an optional gradient of the
 * same size, and (when produced by an op while recording) the closure that pushes its gradient back to
 * its inputs. Reverse-mode autograd in the llm.c spirit: every op in ops.ts has a plain forward and a
 * plain backward, and `backward(loss)` runs the recorded closures in reverse order.
 */
export class Tensor {
  grad: Float32Array | undefined;
  /** Where this activation's gradient buffer comes from (an op output during training); parameters have none. */
  arena: Arena | undefined;
  /** Set by ops while a Tape is recording: accumulates this tensor's gradient into its inputs' grads. */
  backwardFn: (() => void) | undefined;

  constructor(
    readonly data: Float32Array,
    readonly shape: readonly number[],
    readonly requiresGrad = false,
  ) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new RangeError(`tensor of shape [${shape.join(', ')}] needs ${size} values, got ${data.length}`);
    }
  }

  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  /** The gradient buffer, created on first use. */
  gradBuffer(): Float32Array {
    this.grad ??= this.arena ? this.arena.take(this.data.length) : new Float32Array(this.data.length);
    return this.grad;
  }

  zeroGrad(): void {
    this.grad?.fill(0);
  }
}

/**
 * Records the ops of one forward pass so `backward` can replay them in reverse. Only tensors that need a
 * gradient (or depend on one that does) are recorded, so inference builds no graph.
 */
export class Tape {
  private readonly nodes: Tensor[] = [];

  record(output: Tensor, backward: () => void): Tensor {
    output.backwardFn = backward;
    this.nodes.push(output);
    return output;
  }

  /** Seeds d(loss)/d(loss) (1, or a micro-batch's weight) and runs every recorded backward closure in reverse order. */
  backward(loss: Tensor, seed = 1): void {
    if (loss.size !== 1)
      throw new RangeError(`backward needs a scalar loss, got shape [${loss.shape.join(', ')}]`);
    loss.gradBuffer()[0] = seed; // < 1 when this is one micro-batch of an accumulated step
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i] as Tensor;
      node.backwardFn?.();
      // Nothing reads a node's value or gradient once its own backward has run (its consumers ran
      // before it), so arena memory goes back for the gradients still to come: the backward pass then
      // holds the forward activations plus a few gradients, not every gradient of the step.
      if (node.arena && node !== loss) {
        node.arena.release(node.grad);
        node.arena.release(node.data);
        node.grad = undefined;
        node.backwardFn = undefined;
      }
    }
    this.nodes.length = 0;
  }

  get length(): number {
    return this.nodes.length;
  }
}
