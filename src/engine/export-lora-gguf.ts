/**
 * Export the LoRA adapters of a `LlamaModel` as a llama.cpp LoRA adapter GGUF (what llama.cpp's
 * convert_lora_to_gguf.py writes), to be applied at run time on top of the base model exported with
 * `exportGguf` (node-llama-cpp: `createContext({ lora: { adapters: [{ filePath, scale }] } })`).
 *
 * Format, as llama.cpp's src/llama-adapter.cpp reads it:
 * - metadata: `general.type = "adapter"`, `general.architecture` (must equal the base model's),
 *   `adapter.type = "lora"`, `adapter.lora.alpha` (F32). llama.cpp scales the update by
 *   `scale * alpha / rank` (rank = `lora_b` ne[0]); alpha 0 means a factor of `scale` alone.
 * - tensors: for every adapted base weight `blk.N.attn_q.weight`, the pair `blk.N.attn_q.weight.lora_a` and
 *   `.lora_b`. PEFT's A [rank, in] and B [out, rank] (torch row-major) are written unchanged, i.e. with GGUF
 *   ne = [in, rank] and [rank, out]; llama.cpp checks `base.ne[0] == a.ne[0]`, `base.ne[1] == b.ne[1]` and
 *   `a.ne[1] == b.ne[0]`, and computes `W·x + s·B·(A·x)`.
 * - arch `llama`: the base Q/K rows are permuted per head (rotate-half -> adjacent pairs, see
 *   `permuteRopeRows`); since the update is B·A, the same row permutation is applied to B (the output side)
 *   and A is left as is (convert_lora_to_gguf's `LoraTorchTensor` permutes B only).
 * - F32 data, no hyperparameters, no tokenizer, no rope_freqs.
 */
import {
  defaultGgufArchitecture,
  ggufTensorName,
  permuteRopeRows,
  type GgufArchitecture,
} from './export-gguf.js';
import { GgmlType, GgufValueType, writeGguf, type GgufKv, type GgufTensorInput } from './io/gguf.js';
import type { LlamaModel } from './llama.js';

export interface ExportLoraGgufOptions {
  /** GGUF architecture; must match the base GGUF's. Default: as `exportGguf` (`defaultGgufArchitecture`). */
  architecture?: GgufArchitecture;
  /** `general.name`. */
  name?: string;
  /** Extra metadata written after ours. */
  extraMetadata?: readonly GgufKv[];
}

/** The part of a `LlamaModel` the adapter export reads. */
export type LoraExportable = Pick<LlamaModel, 'shape' | 'lora' | 'adapterTensors'>;

const LORA_NAME = /^(model\.layers\.\d+\.(?:self_attn|mlp)\.(\w+_proj))\.lora_([AB])\.weight$/;

/** The GGUF name of a PEFT LoRA tensor: `model.layers.0.self_attn.q_proj.lora_A.weight` -> `blk.0.attn_q.weight.lora_a`. */
export function loraGgufTensorName(peftName: string): string {
  const m = LORA_NAME.exec(peftName);
  if (!m) throw new Error(`not a LoRA tensor name: ${peftName}`);
  return `${ggufTensorName(`${m[1]}.weight`)}.lora_${(m[3] as string).toLowerCase()}`;
}

/** The metadata and tensors of the adapter GGUF, without writing anything. */
export function buildLoraGgufExport(
  model: LoraExportable,
  options: ExportLoraGgufOptions = {},
): { kvs: GgufKv[]; tensors: GgufTensorInput[] } {
  const lora = model.lora;
  if (!lora) throw new Error('model has no LoRA adapters');
  // llama.cpp reads alpha 0 as "no alpha/rank factor", which would apply B·A unscaled.
  if (!(lora.alpha !== 0 && Number.isFinite(lora.alpha))) {
    throw new Error(`cannot export LoRA alpha ${lora.alpha}: llama.cpp treats alpha 0 as a scale of 1`);
  }
  const s = model.shape;
  const arch = options.architecture ?? defaultGgufArchitecture(s);
  const { STRING, U32, F32 } = GgufValueType;
  const kvs: GgufKv[] = [
    { key: 'general.architecture', type: STRING, value: arch },
    { key: 'general.type', type: STRING, value: 'adapter' },
    { key: 'general.name', type: STRING, value: options.name ?? `${arch}-lora` },
    { key: 'general.alignment', type: U32, value: 32 },
    { key: 'general.file_type', type: U32, value: 0 }, // LLAMA_FTYPE_ALL_F32
    { key: 'general.quantization_version', type: U32, value: 2 },
    { key: 'adapter.type', type: STRING, value: 'lora' },
    { key: 'adapter.lora.alpha', type: F32, value: lora.alpha },
    ...(options.extraMetadata ?? []),
  ];

  const adapters = model.adapterTensors();
  const tensors: GgufTensorInput[] = [];
  for (const [name, a] of adapters) {
    const m = LORA_NAME.exec(name);
    if (!m) throw new Error(`unexpected adapter tensor ${name}`);
    if (m[3] !== 'A') continue;
    const base = m[1] as string;
    const module = m[2] as string;
    const b = adapters.get(`${base}.lora_B.weight`);
    if (!b) throw new Error(`adapter ${base} has lora_A but no lora_B`);
    const [rank, inDim] = a.shape as [number, number];
    const [outDim, rankB] = b.shape as [number, number];
    if (a.shape.length !== 2 || b.shape.length !== 2 || rank !== rankB) {
      throw new Error(`adapter ${base}: A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] do not pair`);
    }
    const heads = module === 'q_proj' ? s.numHeads : module === 'k_proj' ? s.numKvHeads : 0;
    const bData =
      arch === 'llama' && heads > 0 ? () => permuteRopeRows(b.data, heads, s.headDim, rank) : b.data;
    tensors.push(
      { name: loraGgufTensorName(name), ne: [inDim, rank], type: GgmlType.F32, data: a.data },
      {
        name: loraGgufTensorName(`${base}.lora_B.weight`),
        ne: [rank, outDim],
        type: GgmlType.F32,
        data: bData,
      },
    );
  }
  if (tensors.length === 0) throw new Error('model has no LoRA adapter tensors');
  return { kvs, tensors };
}

/** Writes the LoRA adapters of `model` as a llama.cpp adapter GGUF at `file` (atomically). */
export async function exportLoraGguf(
  model: LoraExportable,
  file: string,
  options: ExportLoraGgufOptions = {},
): Promise<{ bytes: number; architecture: GgufArchitecture; tensors: number }> {
  const { kvs, tensors } = buildLoraGgufExport(model, options);
  const { bytes } = await writeGguf(file, kvs, tensors);
  return { bytes, architecture: String(kvs[0]?.value) as GgufArchitecture, tensors: tensors.length };
}
