import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToUnicode,
  loadHfTokenizer,
  specialTokenContent,
  trainByteLevelBpe,
  writeTokenizerJson,
  type TextTokenizer,
} from '../../src/engine/tokenizer/index.js';

const SHARED_DATA = path.resolve(process.cwd(), '../shared/data');
const GPT2_DIR = path.join(SHARED_DATA, 'models/tiny-gpt2');
const hasGpt2 = existsSync(path.join(GPT2_DIR, 'tokenizer.json'));
if (!hasGpt2) console.warn(`[tokenizer.test] ${GPT2_DIR} missing: skipping the GPT-2 tokenizer tests`);

/** Ids from Python `tokenizers` 0.23.2: `Tokenizer.from_file(...).encode(s, add_special_tokens=False).ids`. */
const GPT2_EXPECTED: [string, number[]][] = [
  [
    'Hello world, this is a test of the tokenizer.',
    [15496, 995, 11, 428, 318, 257, 1332, 286, 262, 11241, 7509, 13],
  ],
  [
    'déjà vu 😀 naïve café 👩‍👩‍👧',
    [
      67, 2634, 73, 24247, 410, 84, 30325, 222, 41492, 40304, 50169, 102, 447, 235, 41840, 102, 447, 235,
      41840, 100,
    ],
  ],
  [
    '日本語のテキスト 你好，世界！',
    [
      33768, 98, 17312, 105, 45739, 252, 5641, 24336, 25084, 43302, 220, 19526, 254, 25001, 121, 171, 120,
      234, 10310, 244, 45911, 234, 171, 120, 223,
    ],
  ],
  ['  multiple   spaces\n\nnewlines\ttabs', [220, 3294, 220, 220, 9029, 198, 198, 3605, 6615, 197, 8658, 82]],
  [
    "It's 2024: don't we'll I'm 3.14159!",
    [1026, 338, 48609, 25, 836, 470, 356, 1183, 314, 1101, 513, 13, 1415, 19707, 0],
  ],
  ['a<|endoftext|>b', [64, 50256, 65]],
];

describe.skipIf(!hasGpt2)('loadHfTokenizer on the real tiny-gpt2 tokenizer.json', () => {
  let tok: TextTokenizer;
  beforeAll(async () => {
    tok = await loadHfTokenizer(path.join(GPT2_DIR, 'tokenizer.json'));
  });

  it('encodes to the ids of Python tokenizers', () => {
    for (const [text, ids] of GPT2_EXPECTED) expect(tok.encode(text), text).toEqual(ids);
  });

  it('decodes back to the text', () => {
    for (const [text, ids] of GPT2_EXPECTED) expect(tok.decode(ids)).toBe(text);
    expect(tok.decode(Int32Array.from(GPT2_EXPECTED[0]![1]))).toBe(GPT2_EXPECTED[0]![0]);
    expect(tok.decode([])).toBe('');
    expect(tok.encode('')).toEqual([]);
  });

  it('has the GPT-2 vocab size and special ids', () => {
    expect(tok.vocabSize).toBe(50257);
    expect(tok.eosId).toBe(50256);
    expect(tok.bosId).toBe(50256);
  });

  it('finds the EOS among the special tokens without tokenizer_config.json', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tok-gpt2-'));
    try {
      await fs.copyFile(path.join(GPT2_DIR, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      const bare = await loadHfTokenizer(path.join(dir, 'tokenizer.json'));
      expect(bare.eosId).toBe(50256);
      expect(bare.bosId).toBeUndefined();
      expect(bare.encode(GPT2_EXPECTED[1]![0])).toEqual(GPT2_EXPECTED[1]![1]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('specialTokenContent', () => {
  it('reads strings and {content} objects', () => {
    expect(specialTokenContent('</s>')).toBe('</s>');
    expect(specialTokenContent({ content: '<s>', lstrip: false })).toBe('<s>');
    expect(specialTokenContent(null)).toBeUndefined();
  });
});

describe('bytesToUnicode', () => {
  it('is the GPT-2 table', () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table[0x20]).toBe('Ġ');
    expect(table[0x0a]).toBe('Ċ');
    expect(table[0x41]).toBe('A');
    expect(table[0xff]).toBe('ÿ');
  });
});

const CORPUS = [
  'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.',
  'Active reading: the model reads the document, writes notes, and studies them again.',
  "It's a test of the tokenizer: don't split words we'll see often, like 'the' and 'reading'.",
  'Numbers 1234 and 3.14159, dates 2024-06-01, code: def f(x): return x * 2',
  'Unicode: déjà vu, naïve café, 日本語のテキスト, 你好世界, emoji 😀🎉 and Ελληνικά.',
  'Documents are separated by an end-of-text token.<|endoftext|>The next document starts here.',
];
const corpus = (): string[] => Array.from({ length: 20 }, (_, i) => CORPUS.map((s) => `${s} (${i})`)).flat();

const PROBES = [
  'The quick brown fox reads the document again.',
  'déjà vu 😀 — 日本語 你好, Ελληνικά! 🚀 unseen ✨ text ǅ',
  "  spaces   and\ttabs\n\nnewlines, it's fine",
  'before<|endoftext|>after',
  '\u0000\u0001 control and \uFFFD replacement',
];

function pythonTokenizersAvailable(): boolean {
  const r = spawnSync('python3', ['-c', 'import tokenizers'], { encoding: 'utf8' });
  return r.status === 0;
}

describe('trainByteLevelBpe', () => {
  const trained = trainByteLevelBpe(corpus(), { vocabSize: 400 });
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tok-bpe-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is deterministic', () => {
    const again = trainByteLevelBpe(corpus(), { vocabSize: 400 });
    expect(JSON.stringify(again.tokenizerJson)).toBe(JSON.stringify(trained.tokenizerJson));
  });

  it('respects the vocab size and holds the special token', () => {
    const { tokenizer, tokenizerJson } = trained;
    expect(tokenizer.vocabSize).toBe(400);
    expect(Object.keys(tokenizerJson.model.vocab)).toHaveLength(400);
    expect(tokenizerJson.model.merges.length).toBeGreaterThanOrEqual(400 - 257);
    expect(tokenizerJson.model.vocab['<|endoftext|>']).toBe(0);
    expect(tokenizerJson.added_tokens[0]).toMatchObject({ id: 0, content: '<|endoftext|>', special: true });
    expect(tokenizer.eosId).toBe(0);
    expect(tokenizer.encode('x<|endoftext|>y')).toContain(0);
    const ids = Object.values(tokenizerJson.model.vocab).sort((a, b) => a - b);
    expect(ids).toEqual([...Array(400).keys()]);
  });

  it('learns useful merges', () => {
    const text = 'The quick brown fox';
    expect(trained.tokenizer.encode(text).length).toBeLessThan(new TextEncoder().encode(text).length / 2);
  });

  it('round-trips arbitrary text, emoji and CJK included', () => {
    for (const text of PROBES) {
      const ids = trained.tokenizer.encode(text);
      for (const id of ids) expect(id).toBeLessThan(400);
      expect(trained.tokenizer.decode(ids)).toBe(text);
    }
  });

  it('supports several special tokens and a minimum frequency', () => {
    const r = trainByteLevelBpe(corpus(), {
      vocabSize: 100_000,
      minFrequency: 30,
      specialTokens: ['</s>', '<s>'],
    });
    expect(r.tokenizer.vocabSize).toBeLessThan(100_000);
    expect(r.tokenizer.eosId).toBe(0);
    expect(r.tokenizer.encode('a<s>b')).toContain(1);
    expect(r.tokenizer.decode(r.tokenizer.encode(PROBES[1]!))).toBe(PROBES[1]);
  });

  it('rejects a vocab smaller than the byte alphabet', () => {
    expect(() => trainByteLevelBpe(['abc'], { vocabSize: 100 })).toThrow(/vocabSize/);
  });

  it('writes tokenizer.json + tokenizer_config.json that load back to the same ids', async () => {
    const { tokenizerJsonPath, tokenizerConfigPath } = await writeTokenizerJson(dir, trained.tokenizerJson, {
      modelMaxLength: 512,
    });
    const config = JSON.parse(await fs.readFile(tokenizerConfigPath, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      eos_token: '<|endoftext|>',
      bos_token: '<|endoftext|>',
      model_max_length: 512,
    });
    expect((await fs.readdir(dir)).sort()).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    const loaded = await loadHfTokenizer(tokenizerJsonPath);
    expect(loaded.eosId).toBe(0);
    expect(loaded.vocabSize).toBe(400);
    for (const text of PROBES) expect(loaded.encode(text)).toEqual(trained.tokenizer.encode(text));
  });

  it('gives the same ids as Python tokenizers', async (ctx) => {
    if (!pythonTokenizersAvailable()) {
      console.warn('[tokenizer.test] python3 with `tokenizers` unavailable: skipping the Python comparison');
      ctx.skip();
      return;
    }
    const { tokenizerJsonPath } = await writeTokenizerJson(dir, trained.tokenizerJson);
    const script = [
      'import json, sys',
      'from tokenizers import Tokenizer',
      't = Tokenizer.from_file(sys.argv[1])',
      'texts = json.loads(sys.stdin.read())',
      'print(json.dumps([t.encode(s, add_special_tokens=False).ids for s in texts]))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script, tokenizerJsonPath], {
      input: JSON.stringify(PROBES),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const pythonIds = JSON.parse(r.stdout) as number[][];
    expect(pythonIds).toEqual(PROBES.map((s) => trained.tokenizer.encode(s)));
  });
  it('learns the same merges and ids as the BpeTrainer of Python tokenizers', (ctx) => {
    if (!pythonTokenizersAvailable()) {
      console.warn('[tokenizer.test] python3 with `tokenizers` unavailable: skipping the trainer comparison');
      ctx.skip();
      return;
    }
    const script = [
      'import json, sys',
      'from tokenizers import Tokenizer, models, pre_tokenizers, trainers',
      't = Tokenizer(models.BPE())',
      't.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)',
      'tr = trainers.BpeTrainer(vocab_size=400, min_frequency=2, special_tokens=["<|endoftext|>"],',
      '    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)',
      't.train_from_iterator(json.loads(sys.stdin.read()), tr)',
      'm = json.loads(t.to_str())["model"]',
      'merges = [" ".join(x) if isinstance(x, list) else x for x in m["merges"]]',
      'print(json.dumps({"vocab": m["vocab"], "merges": merges}))',
    ].join('\n');
    // HF counts special tokens inside training text as ordinary text; we cut them out, so leave them out here.
    const texts = corpus().map((s) => s.replaceAll('<|endoftext|>', ' '));
    const ours = trainByteLevelBpe(texts, { vocabSize: 400 }).tokenizerJson.model;
    const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const hf = JSON.parse(r.stdout) as { vocab: Record<string, number>; merges: string[] };
    expect(ours.merges).toEqual(hf.merges);
    expect(ours.vocab).toEqual(hf.vocab);
  });
});

describe('bad input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tok-bad-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('names a missing file', async () => {
    const missing = path.join(dir, 'nope', 'tokenizer.json');
    await expect(loadHfTokenizer(missing)).rejects.toThrow(`tokenizer.json not found: ${missing}`);
    const good = path.join(dir, 'good', 'tokenizer.json');
    await writeTokenizerJson(
      path.dirname(good),
      trainByteLevelBpe(['hello'], { vocabSize: 260 }).tokenizerJson,
    );
    const missingConfig = path.join(dir, 'missing_config.json');
    await expect(loadHfTokenizer(good, missingConfig)).rejects.toThrow(missingConfig);
  });

  it('names a file with invalid JSON', async () => {
    const file = path.join(dir, 'tokenizer.json');
    await fs.writeFile(file, '{ "model": ');
    await expect(loadHfTokenizer(file)).rejects.toThrow(
      new RegExp(`invalid JSON in tokenizer.json ${escape(file)}`),
    );
    await fs.writeFile(file, '[1, 2]');
    await expect(loadHfTokenizer(file)).rejects.toThrow(/expected a JSON object/);
    await fs.writeFile(file, '{"version": "1.0"}');
    await expect(loadHfTokenizer(file)).rejects.toThrow(/no "model" object/);
  });

  it('reports a tokenizer without an EOS token', async () => {
    const json = trainByteLevelBpe(['hello'], { vocabSize: 260, specialTokens: ['<pad>'] }).tokenizerJson;
    const file = path.join(dir, 'noeos', 'tokenizer.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(json));
    await expect(loadHfTokenizer(file)).rejects.toThrow(/no end-of-sequence token/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
