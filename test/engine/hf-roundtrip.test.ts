import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../src/engine/io/index.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { LlamaModel, shapeFromConfig } from '../../src/engine/llama.js';
import { AdamW } from '../../src/engine/optim.js';

const probe = spawnSync('python3', ['-c', 'import torch, transformers'], { encoding: 'utf8' });
const haveTransformers = probe.status === 0;
if (!haveTransformers) {
  console.warn(
    '[hf-roundtrip.test] SKIP: python3 with torch + transformers not available; transformers check skipped',
  );
}

describe('checkpoints saved by the engine', () => {
  it('load back identically, and (where transformers is installed) give transformers the same logits', async () => {
    const source = path.resolve('test/fixtures/llama/qwen2-bias');
    const checkpoint = await loadHfCheckpoint(source);
    const model = new LlamaModel(shapeFromConfig(checkpoint.config), checkpoint.tensors);
    const opt = new AdamW(model.params, tsKernels, { lr: 1e-2 });
    const ids = Int32Array.from([5, 9, 2, 77, 31, 8, 64, 1]);
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      model.lossAndGrad(tsKernels, ids, 1, ids.length);
      opt.step();
    }
    const out = mkdtempSync(path.join(os.tmpdir(), 'ar-ckpt-'));
    await saveHfCheckpoint(
      out,
      checkpoint.config,
      new Map([...model.params].map(([name, t]) => [name, { shape: [...t.shape], data: t.data }])),
    );
    const reloaded = new LlamaModel(
      shapeFromConfig((await loadHfCheckpoint(out)).config),
      (await loadHfCheckpoint(out)).tensors,
    );
    const ours = model.forward({ kernels: tsKernels }, ids, 1, ids.length).data;
    expect(Array.from(reloaded.forward({ kernels: tsKernels }, ids, 1, ids.length).data)).toEqual(
      Array.from(ours),
    );

    if (!haveTransformers) return;
    const run = spawnSync(
      'python3',
      ['python/fixtures/check_hf_load.py', out, '--ids', Array.from(ids).join(',')],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const theirs = (JSON.parse(run.stdout) as { logits: number[][] }).logits.flat();
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < theirs.length; i++) scale = Math.max(scale, Math.abs(theirs[i]!));
    for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(theirs[i]! - ours[i]!));
    expect(worst / scale).toBeLessThan(1e-4);
  }, 120_000);
});
