import { writeFileAtomic } from '../../runtime/atomic-file.js';
/**
 * Hugging Face checkpoint directories: config.json + model.safetensors, or a sharded
 * model.safetensors.index.json with its shards (+ tokenizer.json / tokenizer_config.json).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { llamaConfigToJson, parseLlamaConfig, type LlamaConfig } from './hf-config.js';
import {
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  type FloatDtype,
  type SafetensorsDtype,
} from './safetensors.js';

export interface HfTensor {
  shape: number[];
  data: Float32Array;
}

export interface HfCheckpoint {
  config: LlamaConfig;
  /** Every tensor in the checkpoint (all as Float32), expected ones validated. */
  tensors: Map<string, HfTensor>;
  /** Path of tokenizer.json when the directory has one. */
  tokenizerFile?: string;
  /** Path of tokenizer_config.json when the directory has one. */
  tokenizerConfigFile?: string;
  /** The dtype each tensor was stored in (before conversion to Float32). */
  dtypes: Map<string, SafetensorsDtype>;
  /** The safetensors files read. */
  files: string[];
  /** Tensors present that a Llama model does not use (e.g. rotary_emb.inv_freq), kept in `tensors`. */
  unexpectedTensors: string[];
  /** Tensors a Llama model does not use whose dtype is not a float (e.g. I64 buffers): not loaded. */
  skippedTensors: string[];
}

/** Raised for checkpoint-directory problems; the message names the directory or file. */
export class HfCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HfCheckpointError';
  }
}

/** The tensors a Llama-family model with `config` needs, with their shapes (PyTorch order). */
export function expectedLlamaTensors(config: LlamaConfig): Array<{ name: string; shape: number[] }> {
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim } = config;
  const q = numHeads * headDim;
  const kv = numKvHeads * headDim;
  const out: Array<{ name: string; shape: number[] }> = [
    { name: 'model.embed_tokens.weight', shape: [V, H] },
  ];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.push({ name: `${p}.input_layernorm.weight`, shape: [H] });
    out.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, H] });
    out.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, H] });
    out.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, H] });
    out.push({ name: `${p}.self_attn.o_proj.weight`, shape: [H, q] });
    if (config.attentionBias) {
      out.push({ name: `${p}.self_attn.q_proj.bias`, shape: [q] });
      out.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kv] });
      out.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kv] });
      // transformers: Llama's attention_bias also covers o_proj; Qwen2's o_proj has no bias.
      if (config.architecture !== 'qwen2') out.push({ name: `${p}.self_attn.o_proj.bias`, shape: [H] });
    }
    out.push({ name: `${p}.post_attention_layernorm.weight`, shape: [H] });
    out.push({ name: `${p}.mlp.gate_proj.weight`, shape: [I, H] });
    out.push({ name: `${p}.mlp.up_proj.weight`, shape: [I, H] });
    out.push({ name: `${p}.mlp.down_proj.weight`, shape: [H, I] });
    if (config.mlpBias) {
      out.push({ name: `${p}.mlp.gate_proj.bias`, shape: [I] });
      out.push({ name: `${p}.mlp.up_proj.bias`, shape: [I] });
      out.push({ name: `${p}.mlp.down_proj.bias`, shape: [H] });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [H] });
  if (!config.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, H] });
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Check that every expected tensor exists with the right shape. `where(name)` says which file a
 * tensor came from (or should be in) for the error message. Returns names not expected.
 */
export function validateLlamaTensors(
  config: LlamaConfig,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  where: (name: string | null) => string,
): string[] {
  const expected = expectedLlamaTensors(config);
  const names = new Set(expected.map((e) => e.name));
  for (const { name, shape } of expected) {
    const t = tensors.get(name);
    if (!t)
      throw new HfCheckpointError(
        `missing tensor ${name} (expected shape [${shape.join(', ')}]) in ${where(null)}`,
      );
    if (!sameShape(t.shape, shape)) {
      throw new HfCheckpointError(
        `tensor ${name} has shape [${t.shape.join(', ')}] but the config expects [${shape.join(', ')}] in ${where(name)}`,
      );
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      throw new HfCheckpointError(
        `tensor ${name} has ${t.data.length} values, shape needs ${n}, in ${where(name)}`,
      );
    }
  }
  const unexpected = [...tensors.keys()].filter((n) => !names.has(n));
  if (config.tieWordEmbeddings && tensors.has('lm_head.weight')) {
    const t = tensors.get('lm_head.weight')!;
    const want = [config.vocabSize, config.hiddenSize];
    if (!sameShape(t.shape, want)) {
      throw new HfCheckpointError(
        `tensor lm_head.weight has shape [${t.shape.join(', ')}] but the config expects [${want.join(', ')}] in ${where('lm_head.weight')}`,
      );
    }
  }
  return unexpected;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new HfCheckpointError(`missing ${what}: ${file}`);
    throw new HfCheckpointError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HfCheckpointError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Read the shard list from model.safetensors.index.json: shard file → tensor names. */
async function readIndex(dir: string, indexFile: string): Promise<Map<string, string[]>> {
  const index = await readJsonFile(indexFile, 'safetensors index');
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new HfCheckpointError(`${indexFile} has no "weight_map" object`);
  }
  const shards = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (
      typeof shard !== 'string' ||
      shard === '' ||
      path.isAbsolute(shard) ||
      shard.split(/[\\/]/).includes('..')
    ) {
      throw new HfCheckpointError(
        `${indexFile}: tensor ${name} maps to an invalid shard ${JSON.stringify(shard)}`,
      );
    }
    const file = path.join(dir, shard);
    if (!shards.has(file)) shards.set(file, []);
    shards.get(file)!.push(name);
  }
  for (const file of shards.keys()) {
    if (!(await exists(file))) {
      throw new HfCheckpointError(
        `${indexFile} lists shard ${path.basename(file)}, which is missing (${file})`,
      );
    }
  }
  return shards;
}

/**
 * Load a Llama-family checkpoint directory: parse config.json, read model.safetensors (or the shards
 * listed in model.safetensors.index.json, which wins when both exist), convert to Float32 and check
 * that every expected tensor is present with the right shape.
 */
export async function loadHfCheckpoint(dir: string): Promise<HfCheckpoint> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    throw new HfCheckpointError(`checkpoint directory not found: ${dir}`);
  }
  if (!st.isDirectory()) throw new HfCheckpointError(`not a directory: ${dir}`);

  const configFile = path.join(dir, 'config.json');
  const config = parseLlamaConfig(await readJsonFile(configFile, 'config.json'), configFile);

  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const singleFile = path.join(dir, 'model.safetensors');
  const tensors = new Map<string, HfTensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  const origin = new Map<string, string>();
  const files: string[] = [];
  const skippedTensors: string[] = [];
  let describe: string;
  const expectedNames = new Set(expectedLlamaTensors(config).map((e) => e.name));
  expectedNames.add('lm_head.weight');
  /** Load float tensors and every expected tensor (a non-float expected one gets the dtype error). */
  const loadable = async (file: string, wanted: (n: string) => boolean): Promise<(n: string) => boolean> => {
    const header = await readSafetensorsHeader(file);
    return (n) => {
      if (!wanted(n)) return false;
      const dtype = header.tensors.get(n)?.dtype;
      if (expectedNames.has(n) || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16') return true;
      skippedTensors.push(n);
      return false;
    };
  };

  if (await exists(indexFile)) {
    const shards = await readIndex(dir, indexFile);
    describe = `${indexFile} (shards: ${[...shards.keys()].map((f) => path.basename(f)).join(', ')})`;
    for (const [file, names] of shards) {
      const wanted = new Set(names);
      const sf = await readSafetensors(file, { filter: await loadable(file, (n) => wanted.has(n)) });
      for (const name of names) {
        if (skippedTensors.includes(name)) continue;
        const t = sf.tensors.get(name);
        if (!t)
          throw new HfCheckpointError(
            `${indexFile} maps tensor ${name} to ${file}, which does not contain it`,
          );
        tensors.set(name, { shape: t.shape, data: t.data });
        dtypes.set(name, t.dtype);
        origin.set(name, file);
      }
      files.push(file);
    }
  } else if (await exists(singleFile)) {
    describe = singleFile;
    const sf = await readSafetensors(singleFile, { filter: await loadable(singleFile, () => true) });
    for (const [name, t] of sf.tensors) {
      tensors.set(name, { shape: t.shape, data: t.data });
      dtypes.set(name, t.dtype);
      origin.set(name, singleFile);
    }
    files.push(singleFile);
  } else {
    const hasBin =
      (await exists(path.join(dir, 'pytorch_model.bin'))) ||
      (await exists(path.join(dir, 'pytorch_model.bin.index.json')));
    throw new HfCheckpointError(
      `no model.safetensors or model.safetensors.index.json in ${dir}` +
        (hasBin ? ' (found pytorch_model.bin: convert it to safetensors first)' : ''),
    );
  }

  const unexpectedTensors = validateLlamaTensors(config, tensors, (name) =>
    name === null ? describe : (origin.get(name) ?? describe),
  );

  const result: HfCheckpoint = { config, tensors, dtypes, files, unexpectedTensors, skippedTensors };
  const tokenizerFile = path.join(dir, 'tokenizer.json');
  if (await exists(tokenizerFile)) result.tokenizerFile = tokenizerFile;
  const tokenizerConfigFile = path.join(dir, 'tokenizer_config.json');
  if (await exists(tokenizerConfigFile)) result.tokenizerConfigFile = tokenizerConfigFile;
  return result;
}

export interface SaveHfCheckpointOptions {
  /** Stored dtype of the weights (default F32); config.json's torch_dtype follows it. */
  dtype?: FloatDtype;
  /** A tokenizer.json to copy into the directory. */
  tokenizerFile?: string;
  /** A tokenizer_config.json to copy into the directory. */
  tokenizerConfigFile?: string;
  /** Extra safetensors metadata (format: pt is always set, as transformers expects). */
  metadata?: Record<string, string>;
  /** Split the weights into shards of at most this many bytes (+ index); default: one file. */
  maxShardBytes?: number;
}

const TORCH_DTYPE: Record<FloatDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const ITEM: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Write a checkpoint directory loadable by transformers and by loadHfCheckpoint: model.safetensors
 * (or shards + index), tokenizer files when given, and config.json last. Every file is written to a
 * temp name and renamed into place. The tensors are validated against the config first. A stale
 * index / single file of the other layout is removed so the directory stays unambiguous.
 */
export async function saveHfCheckpoint(
  dir: string,
  config: LlamaConfig,
  tensors: Map<string, HfTensor>,
  options: SaveHfCheckpointOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  validateLlamaTensors(config, tensors, () => `the tensors given to saveHfCheckpoint(${dir})`);
  const configJson = llamaConfigToJson(config, { torchDtype: TORCH_DTYPE[dtype] });
  await fs.mkdir(dir, { recursive: true });
  const metadata = { ...options.metadata, format: 'pt' };

  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const singleFile = path.join(dir, 'model.safetensors');
  const names = [...tensors.keys()].sort();
  const bytesOf = (n: string): number => tensors.get(n)!.data.length * ITEM[dtype];
  const totalBytes = names.reduce((a, n) => a + bytesOf(n), 0);

  if (options.maxShardBytes !== undefined && totalBytes > options.maxShardBytes) {
    const groups: string[][] = [];
    let cur: string[] = [];
    let size = 0;
    for (const n of names) {
      if (cur.length > 0 && size + bytesOf(n) > options.maxShardBytes) {
        groups.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(n);
      size += bytesOf(n);
    }
    if (cur.length > 0) groups.push(cur);
    const pad = (i: number): string => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    for (let g = 0; g < groups.length; g++) {
      const shardName = `model-${pad(g + 1)}-of-${pad(groups.length)}.safetensors`;
      const part = new Map<string, HfTensor>();
      for (const n of groups[g]!) {
        part.set(n, tensors.get(n)!);
        weightMap[n] = shardName;
      }
      await writeSafetensors(path.join(dir, shardName), part, metadata, { dtype });
    }
    await writeFileAtomic(
      indexFile,
      JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: weightMap }, null, 2) + '\n',
    );
    await fs.rm(singleFile, { force: true });
  } else {
    await writeSafetensors(singleFile, tensors, metadata, { dtype });
    // An old index would take precedence over model.safetensors on load: remove it.
    await fs.rm(indexFile, { force: true });
  }

  for (const [src, name] of [
    [options.tokenizerFile, 'tokenizer.json'],
    [options.tokenizerConfigFile, 'tokenizer_config.json'],
  ] as const) {
    if (src === undefined) continue;
    const dst = path.join(dir, name);
    if (path.resolve(src) === path.resolve(dst)) continue;
    let content: Buffer;
    try {
      content = await fs.readFile(src);
    } catch (err) {
      throw new HfCheckpointError(`cannot read ${name} to copy from ${src}: ${(err as Error).message}`);
    }
    await writeFileAtomic(dst, content);
  }

  await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
}
