/**
 * Content fingerprint of an engine model directory, for cache keys: SHA-256 over the name, size and SHA-256
 * of every file that determines the outputs (config, generation config, tokenizer files, chat template and all
 * weights, in full). Full hashes rather than sizes, mtimes or sampled blocks: a fine-tune that touches a few
 * tensors keeps every size, copying resets mtimes, and a stale key would silently serve the old model's answers.
 * Names are relative to the directory, so a moved or copied checkpoint keeps its cache. SHA-256 runs at about
 * 1.5 GB/s here, well below the cost of loading the same weights.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

/** Files beside the weights that change what the model generates. */
const MODEL_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'model.safetensors.index.json',
];

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `sha256:<hex>` of the model in `dir`; `weightFiles` are the safetensors files loaded (absolute or relative
 * to `dir`).
 */
export async function modelFingerprint(dir: string, weightFiles: readonly string[]): Promise<string> {
  const names = new Set<string>();
  for (const name of MODEL_FILES) {
    if (
      await fs.stat(path.join(dir, name)).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      names.add(name);
  }
  for (const file of weightFiles)
    names.add(path.relative(dir, path.resolve(dir, file)).split(path.sep).join('/'));
  const total = createHash('sha256');
  total.update('active-reading/engine-model@1\n');
  for (const name of [...names].sort()) {
    const file = path.join(dir, name);
    const { size } = await fs.stat(file);
    total.update(`${name}\t${size}\t${await fileDigest(file)}\n`);
  }
  return `sha256:${total.digest('hex')}`;
}
