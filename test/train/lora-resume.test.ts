import { cpSync, mkdtempSync, promises as fs, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainWithEngine, type EngineTrainOptions } from '../../src/train/engine-trainer.js';

const quiet = { write: () => true };

describe('LoRA with dropout', () => {
  it('resumed from an earlier checkpoint, ends exactly where the uninterrupted run ended', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ar-lora-resume-'));
    try {
      const data = path.join(dir, 'data.jsonl');
      const lines = Array.from({ length: 60 }, (_, i) =>
        JSON.stringify({ text: `Item ${i} is kept in room ${i % 7} next to shelf ${i % 5}.` }),
      );
      writeFileSync(data, `${lines.join('\n')}\n`);
      const config = path.join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({
          architectures: ['LlamaForCausalLM'],
          model_type: 'llama',
          vocab_size: 280,
          hidden_size: 32,
          intermediate_size: 64,
          num_hidden_layers: 2,
          num_attention_heads: 4,
          num_key_value_heads: 2,
          max_position_embeddings: 64,
          tie_word_embeddings: true,
        }),
      );
      const common = {
        data,
        seqLen: 32,
        batchTokens: 128,
        kernels: 'ts',
        log: () => {},
        progressStream: quiet,
      };
      const base = path.join(dir, 'base');
      await trainWithEngine({ ...common, fromScratch: config, out: base, steps: 3 } as EngineTrainOptions);
      const lora = (out: string): EngineTrainOptions =>
        ({
          ...common,
          model: base,
          out,
          steps: 12,
          lr: 5e-3,
          checkpointEvery: 4,
          lora: { rank: 4, alpha: 8, dropout: 0.3 },
        }) as EngineTrainOptions;
      const clean = path.join(dir, 'clean');
      const first = await trainWithEngine(lora(clean));
      expect(first.status).toBe('complete');
      expect(first.kernels).toBe('ts');

      // A crash after step 8: the newer checkpoint is gone and `latest` names step 8.
      const crashed = path.join(dir, 'crashed');
      cpSync(clean, crashed, { recursive: true });
      const checkpoints = path.join(crashed, 'checkpoints');
      const kept = (await fs.readdir(checkpoints)).filter((n) => n.startsWith('step-')).sort();
      expect(kept).toHaveLength(2);
      rmSync(path.join(checkpoints, kept[1]!), { recursive: true });
      writeFileSync(path.join(checkpoints, 'latest'), `${kept[0]}\n`);
      const logged: string[] = [];
      const resumed = await trainWithEngine({ ...lora(crashed), log: (l) => logged.push(l) });
      expect(logged.join('\n')).toMatch(/resuming from checkpoints\/step-0+8/);
      expect(resumed.finalLoss).toBe(first.finalLoss);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
