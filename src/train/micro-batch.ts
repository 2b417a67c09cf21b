import { FUSED_HEAD_CHUNK_ROWS, usesFusedHead, type LlamaShape } from '../engine/llama.js';

/** The least activation memory a pass may use, whatever the model size. */
const MIN_ACTIVATION_BYTES = 256 * 1024 * 1024;

/**
 * Bytes of activations (and their gradients in flight) of one training pass over `tokens` tokens: per layer
 * about 12 hidden-wide and 4 MLP-wide float32 rows per token kept for the backward pass, plus the LM head:
 * logits, their softmax and gradient per token with the plain head, or three fixed chunks with the fused
 * one (see LlamaModel.usesFusedHead). An estimate from the ops in llama.ts, checked against the arena's
 * measured peak for the 30M bench config (bench/RESULTS.md).
 */
export function activationBytes(shape: LlamaShape, tokens: number, fusedHead: boolean): number {
  const perLayer = 12 * shape.hiddenSize + 4 * shape.intermediateSize;
  const head = fusedHead ? 3 * FUSED_HEAD_CHUNK_ROWS * shape.vocabSize : 3 * tokens * shape.vocabSize;
  return 4 * (tokens * shape.numLayers * perLayer + head);
}

/**
 * Rows (sequences) per forward/backward pass when the user gave no --micro-batch-tokens: the most that
 * keep the activations within max(256 MiB, a quarter of the weights + gradients + AdamW state), so peak
 * memory stays near that state's size instead of growing with the batch. Gradient accumulation over the
 * passes gives the same step; only memory and GEMM sizes change.
 */
export function autoMicroBatchRows(
  shape: LlamaShape,
  options: { seqLen: number; batchRows: number; trainableParams: number },
): number {
  const budget = Math.max(MIN_ACTIVATION_BYTES, (options.trainableParams * 4 * 4) / 4);
  for (let rows = options.batchRows; rows > 1; rows--) {
    const tokens = rows * options.seqLen;
    if (activationBytes(shape, tokens, usesFusedHead(shape, tokens)) <= budget) return rows;
  }
  return 1;
}
