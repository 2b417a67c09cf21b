import { llamaCppProbabilities, maxDiff, openTestLlama } from '../helpers/llama-cpp-probabilities.js';
import { softmax, spmTokenizer } from '../helpers/gguf-vocab.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GgufTokenType,
  buildGgufExport,
  exportGguf,
  ggufTensorName,
  gpt2TokenizerFromHf,
  llama3RopeFactors,
  permuteRopeRows,
  rotateHalfToInterleaved,
} from '../../src/engine/export-gguf.js';
import {
  GgmlType,
  GgufValueType,
  decodeTensorData,
  encodeGguf,
  f16BitsToF32,
  f32ToF16Bits,
  parseGgufHeader,
  quantizeQ8_0,
  readGgufHeader,
  readGgufTensor,
  writeGguf,
  type GgufKv,
} from '../../src/engine/io/gguf.js';
import { loadHfCheckpoint } from '../../src/engine/io/index.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { LlamaModel, shapeFromConfig } from '../../src/engine/llama.js';
import { inverseFrequencies } from '../../src/engine/rope-tables.js';
import { initLlamaWeights } from '../../src/engine/init.js';
import { trainByteLevelBpe } from '../../src/engine/tokenizer/index.js';

const FIXTURES = path.resolve('test/fixtures/llama');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gguf-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('GGUF writer and reader', () => {
  it('round-trips metadata of every type and tensors of F32, F16 and Q8_0', async () => {
    const T = GgufValueType;
    const kvs: GgufKv[] = [
      { key: 'general.alignment', type: T.U32, value: 32 },
      { key: 'a.u8', type: T.U8, value: 200 },
      { key: 'a.i8', type: T.I8, value: -100 },
      { key: 'a.u16', type: T.U16, value: 60000 },
      { key: 'a.i16', type: T.I16, value: -30000 },
      { key: 'a.i32', type: T.I32, value: -5 },
      { key: 'a.f32', type: T.F32, value: 0.5 },
      { key: 'a.bool', type: T.BOOL, value: true },
      { key: 'a.str', type: T.STRING, value: 'héllo ▁' },
      { key: 'a.u64', type: T.U64, value: 2n ** 40n },
      { key: 'a.big', type: T.U64, value: 2n ** 63n },
      { key: 'a.i64', type: T.I64, value: -7 },
      { key: 'a.f64', type: T.F64, value: Math.PI },
      { key: 'a.strs', type: T.ARRAY, itemType: T.STRING, value: ['x', '', 'y z'] },
      { key: 'a.i32s', type: T.ARRAY, itemType: T.I32, value: [1, -2, 3] },
      { key: 'a.empty', type: T.ARRAY, itemType: T.F32, value: [] },
    ];
    const f32 = Float32Array.from({ length: 15 }, (_, i) => i * 0.25 - 1);
    const f16 = Float32Array.from({ length: 6 }, (_, i) => i / 3);
    const q8 = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const tensors = [
      { name: 'x.f32', ne: [5, 3], data: f32 },
      { name: 'x.f16', ne: [6], type: GgmlType.F16, data: () => f16 },
      { name: 'x.q8', ne: [32, 2], type: GgmlType.Q8_0, data: q8 },
    ];
    const file = path.join(dir, 'roundtrip.gguf');
    const { bytes } = await writeGguf(file, kvs, tensors);
    const buf = readFileSync(file);
    expect(buf.length).toBe(bytes);
    expect(buf.equals(encodeGguf(kvs, tensors))).toBe(true);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const header = await readGgufHeader(file);
    expect(header.version).toBe(3);
    expect(header.dataOffset % 32).toBe(0);
    const values = Object.fromEntries(header.metadata);
    expect(values).toMatchObject({
      'a.u8': 200,
      'a.i8': -100,
      'a.u16': 60000,
      'a.i16': -30000,
      'a.i32': -5,
      'a.f32': 0.5,
      'a.bool': true,
      'a.str': 'héllo ▁',
      'a.u64': 2 ** 40,
      'a.big': 2n ** 63n,
      'a.i64': -7,
      'a.f64': Math.PI,
      'a.strs': ['x', '', 'y z'],
      'a.i32s': [1, -2, 3],
      'a.empty': [],
    });
    expect(header.metadataTypes.get('a.strs')).toBe(T.ARRAY);
    expect(header.metadataItemTypes.get('a.i32s')).toBe(T.I32);
    expect(header.tensors.map((t) => [t.name, t.ne, t.type, t.offset % 32])).toEqual([
      ['x.f32', [5, 3], 0, 0],
      ['x.f16', [6], 1, 0],
      ['x.q8', [32, 2], 8, 0],
    ]);
    expect(parseGgufHeader(buf).tensors).toEqual(header.tensors);
    expect(await readGgufTensor(file, header, 'x.f32')).toEqual(f32);
    const h = await readGgufTensor(file, header, 'x.f16');
    h.forEach((v, i) => expect(Math.abs(v - (f16[i] as number))).toBeLessThan(4e-4));
    const q = await readGgufTensor(file, header, 'x.q8');
    q.forEach((v, i) => expect(Math.abs(v - (q8[i] as number))).toBeLessThan(1 / 127));
  });

  it('rejects bad input and leaves no file behind', async () => {
    const file = path.join(dir, 'bad.gguf');
    await expect(writeGguf(file, [], [{ name: 'x', ne: [4], data: new Float32Array(3) }])).rejects.toThrow(
      /needs 4 values/,
    );
    await expect(
      writeGguf(file, [], [{ name: 'x', ne: [16], type: GgmlType.Q8_0, data: new Float32Array(16) }]),
    ).rejects.toThrow(/multiple of 32/);
    expect(await readdir(dir)).not.toContain('bad.gguf');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await writeFile(file, 'not a gguf file');
    await expect(readGgufHeader(file)).rejects.toThrow(/not a GGUF/);
  });

  it('converts to f16 with round-to-nearest-even', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -24)).toBe(1); // smallest subnormal
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f16BitsToF32(0x3555)).toBeCloseTo(1 / 3, 3);
    for (const v of [0.1, -3.75, 1e-5, 6e-8, 1234.5]) {
      expect(Math.abs(f16BitsToF32(f32ToF16Bits(v)) - v)).toBeLessThanOrEqual(
        Math.abs(v) * 2 ** -11 + 2 ** -25,
      );
    }
  });

  it('quantizes a Q8_0 block like llama.cpp (d = max|x|/127 as f16, q = round(x/d))', () => {
    // max |x| = 2.54, so d = 0.02 and q = round(x / 0.02) with ties away from zero.
    const x = new Float32Array(32);
    x[0] = 2.54;
    x[1] = -1.27;
    x[2] = 0.01; // 0.5 -> 1 (away from zero)
    x[3] = -0.03; // -1.5 -> -2
    x[4] = 0.0449; // 2.245 -> 2
    x[5] = -2.54;
    const block = quantizeQ8_0(x);
    expect(block.length).toBe(34);
    expect(block.readUInt16LE(0)).toBe(f32ToF16Bits(Math.fround(Math.fround(2.54) / 127)));
    const q = Array.from(block.subarray(2), (b) => (b << 24) >> 24);
    expect(q.slice(0, 7)).toEqual([127, -64, 1, -2, 2, -127, 0]);
    const back = decodeTensorData(GgmlType.Q8_0, block, 32);
    expect(back[0]).toBeCloseTo(2.54, 2);
    expect(Array.from(quantizeQ8_0(new Float32Array(32)))).toEqual(new Array(34).fill(0)); // all-zero block
  });
});

describe('HF -> GGUF conversion', () => {
  it('maps parameter names', () => {
    expect(ggufTensorName('model.embed_tokens.weight')).toBe('token_embd.weight');
    expect(ggufTensorName('model.layers.3.self_attn.k_proj.bias')).toBe('blk.3.attn_k.bias');
    expect(ggufTensorName('model.layers.0.post_attention_layernorm.weight')).toBe('blk.0.ffn_norm.weight');
    expect(ggufTensorName('model.layers.1.mlp.down_proj.weight')).toBe('blk.1.ffn_down.weight');
    expect(ggufTensorName('lm_head.weight')).toBe('output.weight');
    expect(() => ggufTensorName('model.layers.0.foo.weight')).toThrow(/no GGUF name/);
  });

  it('orders each head [0, d/2, 1, d/2+1, ...], which turns rotate-half RoPE into adjacent-pair RoPE', () => {
    expect(Array.from(rotateHalfToInterleaved(6))).toEqual([0, 3, 1, 4, 2, 5]);
    // Derivation check: HF rotate-half RoPE on rows W, then the permutation, equals adjacent-pair RoPE
    // (llama.cpp's mode NORM) on the permuted rows, for any input x and position.
    const heads = 2;
    const d = 8;
    const cols = 3;
    const w = Float32Array.from({ length: heads * d * cols }, (_, i) => Math.sin(i * 1.7));
    const x = [0.3, -1.2, 0.8];
    const inv = inverseFrequencies({ headDim: d, ropeTheta: 10000 });
    const project = (m: Float32Array) =>
      Array.from({ length: heads * d }, (_, r) =>
        x.reduce((acc, xv, c) => acc + (m[r * cols + c] as number) * xv, 0),
      );
    const pos = 5;
    const q = project(w);
    const hf = q.slice();
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < d / 2; i++) {
        const a = q[h * d + i] as number;
        const b = q[h * d + i + d / 2] as number;
        const t = pos * (inv[i] as number);
        hf[h * d + i] = a * Math.cos(t) - b * Math.sin(t);
        hf[h * d + i + d / 2] = b * Math.cos(t) + a * Math.sin(t);
      }
    }
    const qp = project(permuteRopeRows(w, heads, d, cols));
    const cpp = qp.slice();
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < d / 2; i++) {
        const a = qp[h * d + 2 * i] as number;
        const b = qp[h * d + 2 * i + 1] as number;
        const t = pos * (inv[i] as number);
        cpp[h * d + 2 * i] = a * Math.cos(t) - b * Math.sin(t);
        cpp[h * d + 2 * i + 1] = b * Math.cos(t) + a * Math.sin(t);
      }
    }
    const order = rotateHalfToInterleaved(d);
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < d; j++) {
        expect(cpp[h * d + j]).toBeCloseTo(hf[h * d + (order[j] as number)] as number, 10);
      }
    }
  });

  it('permutes Q/K rows (and biases) for arch llama only; refuses unknown input', async () => {
    const qwen = await loadHfCheckpoint(path.join(FIXTURES, 'qwen2-bias'));
    const shape = shapeFromConfig(qwen.config);
    const model = { shape, params: qwen.tensors };
    const tokenizer = spmTokenizer(shape.vocabSize);
    const data = (t: { data: Float32Array | (() => Float32Array) }) =>
      typeof t.data === 'function' ? t.data() : t.data;
    const hfK = qwen.tensors.get('model.layers.0.self_attn.k_proj.weight')!.data;
    const hfKb = qwen.tensors.get('model.layers.0.self_attn.k_proj.bias')!.data;
    for (const architecture of ['qwen2', 'llama'] as const) {
      const { kvs, tensors } = buildGgufExport(model, { type: 'f32', tokenizer, architecture });
      expect(kvs[0]).toMatchObject({ key: 'general.architecture', value: architecture });
      const k = tensors.find((t) => t.name === 'blk.0.attn_k.weight')!;
      const kb = tensors.find((t) => t.name === 'blk.0.attn_k.bias')!;
      expect(k.ne).toEqual([shape.hiddenSize, shape.numKvHeads * shape.headDim]);
      const permute = architecture === 'llama';
      expect(data(k)).toEqual(
        permute ? permuteRopeRows(hfK, shape.numKvHeads, shape.headDim, shape.hiddenSize) : hfK,
      );
      expect(data(kb)).toEqual(permute ? permuteRopeRows(hfKb, shape.numKvHeads, shape.headDim, 1) : hfKb);
      expect(tensors.some((t) => t.name === 'output.weight')).toBe(false); // tied
    }
    expect(buildGgufExport(model, { type: 'f32', tokenizer }).kvs[0]?.value).toBe('qwen2');
    expect(() =>
      buildGgufExport(model, {
        type: 'f32',
        tokenizer: {
          ...tokenizer,
          tokens: [...tokenizer.tokens, 'x'],
          types: [...tokenizer.types, 1],
          scores: [...tokenizer.scores, 0],
        },
      }),
    ).toThrow(/vocab is 96/);
    const short = spmTokenizer(90);
    const padded = buildGgufExport(model, { type: 'f32', tokenizer: short }).kvs;
    const tokens = padded.find((kv) => kv.key === 'tokenizer.ggml.tokens')!.value as string[];
    expect(tokens.length).toBe(96);
    expect(tokens[95]).toBe('[PAD95]');
  });

  it('builds a gpt2 tokenizer from tokenizer.json', () => {
    const tok = gpt2TokenizerFromHf(
      {
        model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b', ['ab', 'b']] },
        added_tokens: [{ id: 4, content: '<|end|>', special: true }],
      },
      { eos: 4 },
    );
    expect(tok.tokens).toEqual(['a', 'b', 'ab', '[PAD3]', '<|end|>']);
    expect(tok.types).toEqual([1, 1, 1, GgufTokenType.UNUSED, GgufTokenType.CONTROL]);
    expect(tok.merges).toEqual(['a b', 'ab b']);
  });
});

interface Reference {
  input_ids: number[][];
  logits: number[][][];
}

describe('exported GGUF loads in node-llama-cpp and matches our forward pass', () => {
  let llama: Llama;
  beforeAll(async () => {
    llama = await openTestLlama();
  });
  afterAll(async () => {
    await llama?.dispose();
  });

  const cases = ['llama-gqa-untied', 'llama-tied', 'qwen2-bias', 'llama-rope-scaling'];
  for (const name of cases) {
    it(`${name}: f32 matches to 1e-4, f16 and q8_0 stay close`, async () => {
      const fixture = path.join(FIXTURES, name);
      const reference = JSON.parse(readFileSync(path.join(fixture, 'reference.json'), 'utf8')) as Reference;
      const checkpoint = await loadHfCheckpoint(fixture);
      const shape = shapeFromConfig(checkpoint.config);
      const ours = new LlamaModel(shape, checkpoint.tensors);
      const tokenizer = spmTokenizer(shape.vocabSize);
      const ids = reference.input_ids[0]!;
      const logits = ours.forward({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length).data;
      const V = shape.vocabSize;
      const expected = ids.map((_, t) => softmax(logits.subarray(t * V, (t + 1) * V)));
      const torch = reference.logits[0]!.map((row) => softmax(row));

      const results: Record<string, number> = {};
      for (const type of ['f32', 'f16', 'q8_0'] as const) {
        const file = path.join(dir, `${name}-${type}.gguf`);
        await exportGguf(ours, file, { type, tokenizer, name, contextLength: 256 });
        const got = await llamaCppProbabilities(llama, file, ids, V);
        results[type] = Math.max(...got.map((p, t) => maxDiff(p, expected[t]!)));
        if (type === 'f32') {
          results.torch = Math.max(...got.map((p, t) => maxDiff(p, torch[t]!)));
        }
      }
      // q8_0: rows of 48 values cannot be Q8_0 blocks (F16 instead); ffn_down rows (96) are.
      const q8 = await readGgufHeader(path.join(dir, `${name}-q8_0.gguf`));
      const typeOf = (t: string) => q8.tensors.find((x) => x.name === t)?.type;
      expect([
        typeOf('blk.0.ffn_down.weight'),
        typeOf('blk.0.attn_q.weight'),
        typeOf('blk.0.attn_norm.weight'),
      ]).toEqual([GgmlType.Q8_0, GgmlType.F16, GgmlType.F32]);
      expect(q8.metadata.get('general.file_type')).toBe(7);
      expect(results.f32).toBeLessThan(1e-4);
      expect(results.torch).toBeLessThan(1e-4);
      expect(results.f16).toBeLessThan(1e-2);
      expect(results.q8_0).toBeLessThan(5e-2);
    });
  }

  it('a byte-level BPE tokenizer trained by us exports as a gpt2 GGUF that llama.cpp tokenizes identically', async () => {
    const corpus = [
      'The archive in Lisbon holds 1,204 letters written between 1820 and 1865.',
      "Maria's notes mention the river Tagus twice; don't miss the second one!",
      'Numbers like 3.14159 and 42 sit beside words such as naïve, café and Zürich.',
    ];
    const trained = trainByteLevelBpe(Array.from({ length: 20 }, () => corpus).flat(), { vocabSize: 400 });
    const tokenizer = trained.tokenizer;
    const shape = {
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 32,
      intermediateSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 8,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      tieWordEmbeddings: true,
      attentionBias: false,
    };
    const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 5 }));
    const file = path.join(dir, 'bpe-gpt2.gguf');
    await exportGguf(model, file, {
      type: 'f32',
      tokenizer: gpt2TokenizerFromHf(trained.tokenizerJson, { eos: tokenizer.eosId }),
      contextLength: 128,
    });
    const texts = [...corpus, 'An unseen sentence: Porto, 1999 -- "quoted" & spaced   out.'];
    const loaded = await llama.loadModel({ modelPath: file });
    try {
      for (const text of texts)
        expect(loaded.tokenize(text).map(Number), text).toEqual(tokenizer.encode(text));
      expect(loaded.detokenize(loaded.tokenize(texts[3]!))).toBe(texts[3]);
    } finally {
      await loaded.dispose();
    }
    const ids = tokenizer.encode(corpus[0]!).slice(0, 24);
    const logits = model.forward({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length).data;
    const V = shape.vocabSize;
    const got = await llamaCppProbabilities(llama, file, ids, V);
    const worst = Math.max(...got.map((p, t) => maxDiff(p, softmax(logits.subarray(t * V, (t + 1) * V)))));
    expect(worst).toBeLessThan(1e-4);
  });

  it('writes the llama3 rope factors as rope_freqs.weight', async () => {
    const checkpoint = await loadHfCheckpoint(path.join(FIXTURES, 'llama-rope-scaling'));
    const shape = shapeFromConfig(checkpoint.config);
    const file = path.join(dir, 'llama-rope-scaling-f32.gguf');
    const header = await readGgufHeader(file);
    expect(await readGgufTensor(file, header, 'rope_freqs.weight')).toEqual(llama3RopeFactors(shape));
    expect(header.metadata.get('general.architecture')).toBe('llama');
  });
});
