import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, promises as fs, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TRAIN_HELP } from '../../src/cli/train.js';
import { readGgufHeader } from '../../src/engine/io/gguf.js';
import { loadHfCheckpoint } from '../../src/engine/io/index.js';

const CLI = path.resolve('dist/cli/main.js');
let dir: string;
let data: string;
let config: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ACTIVE_READING_KERNELS: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ar-train-'));
  data = path.join(dir, 'data.jsonl');
  const lines = Array.from({ length: 120 }, (_, i) =>
    JSON.stringify({ text: `Person ${i} was born in City ${i % 17} and studied at University ${i % 11}.` }),
  );
  writeFileSync(data, `${lines.join('\n')}\n`);
  config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 300,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 64,
      rms_norm_eps: 1e-5,
      tie_word_embeddings: true,
    }),
  );
});

async function losses(out: string): Promise<Array<[number, number]>> {
  const latest = (await fs.readFile(path.join(out, 'checkpoints', 'latest'), 'utf8')).trim();
  const state = JSON.parse(
    await fs.readFile(path.join(out, 'checkpoints', latest, 'trainer_state.json'), 'utf8'),
  );
  return state.losses as Array<[number, number]>;
}

describe('train', () => {
  it('--help documents every flag', () => {
    const { code, stdout } = cli(['train', '--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(TRAIN_HELP);
    const source = spawnSync('grep', ['-o', "^  '\\?[a-z-]*'\\?: { type", 'src/cli/train.ts'], {
      encoding: 'utf8',
    }).stdout;
    for (const flag of source
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/[':{ ]|type/g, ''))) {
      expect(stdout).toContain(`--${flag}`);
    }
  });

  it('trains from scratch: loss falls, the result is a HF directory and a GGUF', async () => {
    const out = path.join(dir, 'scratch');
    const { code, stdout, stderr } = cli([
      'train',
      '--data',
      data,
      '--from-scratch',
      config,
      '--out',
      out,
      '--steps',
      '80',
      '--seq-len',
      '32',
      '--batch-tokens',
      '256',
      '--lr',
      '3e-3',
      '--export-gguf',
      'q8_0',
      '--snapshots',
      '3',
    ]);
    expect(stderr).toMatch(/kernels: (native|ts)/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^done: .* \(80 steps, loss \d/);
    const history = await losses(out);
    expect(history).toHaveLength(80);
    expect(history.at(-1)![1]).toBeLessThan(history[0]![1] * 0.6);
    const checkpoint = await loadHfCheckpoint(out);
    expect(checkpoint.config.vocabSize).toBe(300);
    // The special ids in config.json are the trained tokenizer's (its EOS separates the packed documents).
    const tokenizerJson = JSON.parse(await fs.readFile(path.join(out, 'tokenizer.json'), 'utf8'));
    const eos = tokenizerJson.added_tokens.find((t: { content: string }) => t.content === '<|endoftext|>');
    expect(checkpoint.config.eosTokenId).toBe(eos.id);
    expect(checkpoint.config.bosTokenId).toBe(eos.id); // GPT-2's convention: one token for both
    expect(checkpoint.tokenizerFile).toBe(path.join(out, 'tokenizer.json'));
    // Three evenly spaced intermediate models, each a loadable HF directory that knows its step and tokens.
    const snapshots = (await fs.readdir(path.join(out, 'snapshots'))).sort();
    expect(snapshots).toEqual(['step-00000020', 'step-00000040', 'step-00000060']);
    for (const [i, name] of snapshots.entries()) {
      const info = JSON.parse(await fs.readFile(path.join(out, 'snapshots', name, 'snapshot.json'), 'utf8'));
      expect(info).toEqual({ step: 20 * (i + 1), tokens: 20 * (i + 1) * 256 });
      const snap = await loadHfCheckpoint(path.join(out, 'snapshots', name));
      expect(snap.tensors.get('model.norm.weight')?.data).not.toEqual(
        checkpoint.tensors.get('model.norm.weight')?.data,
      );
    }
    const gguf = await readGgufHeader(path.join(out, 'model-q8_0.gguf'));
    expect(gguf.metadata.get('general.architecture')).toBe('llama');
  });

  it('resumes after kill -9 from the newest checkpoint and ends where an uninterrupted run ends', async () => {
    const args = (out: string) => [
      CLI,
      'train',
      '--data',
      data,
      '--from-scratch',
      config,
      '--out',
      out,
      '--steps',
      '400',
      '--seq-len',
      '32',
      '--batch-tokens',
      '256',
      '--lr',
      '1e-3',
      '--checkpoint-every',
      '20',
      '--kernels',
      'ts',
      '--seed',
      '3',
    ];
    const clean = path.join(dir, 'clean');
    spawnSync(process.execPath, args(clean), { encoding: 'utf8' });
    const killed = path.join(dir, 'killed');
    const child = spawn(process.execPath, args(killed), { stdio: 'ignore' });
    const latest = path.join(killed, 'checkpoints', 'latest');
    for (const deadline = Date.now() + 30_000; !existsSync(latest);) {
      if (Date.now() > deadline) throw new Error('no checkpoint appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await once(child, 'exit');
    const resumed = spawnSync(process.execPath, args(killed), { encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from checkpoints\/step-\d+ \(step \d+ of 400\)/);
    const a = await losses(clean);
    const b = await losses(killed);
    expect(b).toHaveLength(400);
    expect(Math.abs(a.at(-1)![1] - b.at(-1)![1])).toBeLessThan(1e-4);
  }, 120_000);

  it('bad input stops with one clear message', async () => {
    expect(cli(['train', '--data', data, '--out', path.join(dir, 'x')]).stderr).toMatch(
      /exactly one of --model/,
    );
    expect(
      cli([
        'train',
        '--data',
        path.join(dir, 'nope.jsonl'),
        '--from-scratch',
        config,
        '--out',
        path.join(dir, 'y'),
      ]).stderr,
    ).toMatch(/nope\.jsonl/);
    const gpt2 = path.join(dir, 'gpt2.json');
    writeFileSync(gpt2, JSON.stringify({ architectures: ['GPT2LMHeadModel'], vocab_size: 10 }));
    expect(
      cli(['train', '--data', data, '--from-scratch', gpt2, '--out', path.join(dir, 'z')]).stderr,
    ).toMatch(/unsupported architecture GPT2LMHeadModel/);
    // A learning rate that blows up: the loss turns NaN, training stops, earlier checkpoints stay.
    const out = path.join(dir, 'nan');
    const r = cli([
      'train',
      '--data',
      data,
      '--from-scratch',
      config,
      '--out',
      out,
      '--steps',
      '50',
      '--seq-len',
      '32',
      '--batch-tokens',
      '256',
      '--lr',
      '1e9',
      '--warmup',
      '0',
      '--checkpoint-every',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the loss became (NaN|Infinity) at step \d+: lower --lr/);
  });
});

describe('train with a model directory', () => {
  it('refuses a tokenizer larger than the model vocabulary, naming both sizes', async () => {
    const { trainByteLevelBpe, writeTokenizerJson } = await import('../../src/engine/tokenizer/index.js');
    const model = path.join(dir, 'mismatch-model');
    await fs.cp(path.resolve('test/fixtures/llama/llama-tied'), model, { recursive: true });
    const texts = Array.from({ length: 200 }, (_, i) => `word${i} other${i * 7} thing${i % 13}`);
    await writeTokenizerJson(model, trainByteLevelBpe(texts, { vocabSize: 400 }).tokenizerJson);
    const r = cli([
      'train',
      '--data',
      data,
      '--model',
      model,
      '--out',
      path.join(dir, 'mismatch-out'),
      '--steps',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the tokenizer has \d+ tokens but the model's vocabulary is 96: they do not belong together/,
    );
  });
});

describe('study -> train', () => {
  it('trains on a study run directory, on the documents or as chat with the loss on responses', async () => {
    const { startScriptedServer } = await import('../helpers/scripted-server.js');
    const { studyResponder } = await import('../helpers/study-responder.js');
    const { writeSmallCorpus } = await import('../helpers/study-fixtures.js');
    const { createOpenAICompatibleGenerator } = await import('../../src/models/openai-compatible.js');
    const { runStudy } = await import('../../src/study/run-study.js');
    const server = await startScriptedServer({ respond: studyResponder });
    const generator = createOpenAICompatibleGenerator({ model: 'scripted', baseUrl: server.url });
    const run = path.join(dir, 'study-run');
    try {
      await runStudy({
        corpus: await writeSmallCorpus(path.join(dir, 'study-corpus')),
        out: run,
        method: 'ar',
        generator,
        log: () => undefined,
        progressStream: { write: () => true, isTTY: false },
      });
    } finally {
      await generator.close();
      await server.close();
    }
    for (const mode of ['response', 'chat']) {
      const out = path.join(dir, `from-study-${mode}`);
      const r = cli([
        'train',
        '--data',
        run,
        '--train-on',
        mode,
        '--from-scratch',
        config,
        '--out',
        out,
        '--steps',
        '20',
        '--seq-len',
        '32',
        '--batch-tokens',
        '256',
        '--lr',
        '3e-3',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const history = await losses(out);
      expect(history.at(-1)![1]).toBeLessThan(history[0]![1]);
    }
  });
});
