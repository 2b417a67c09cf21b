import { fmt } from '../runtime/progress.js';
import { trainWithEngine, type EngineTrainOptions } from '../train/engine-trainer.js';
import { UsageError, parseFlags, parseChoice, parseCount, parseNumber, withInterrupts } from './args.js';

export const TRAIN_HELP = `Usage: active-reading train --data RUN_DIR|FILE.jsonl --model HF_DIR | --from-scratch CONFIG.json --out CKPT_DIR [options]

Trains a Llama-family model on the TypeScript engine (CPU; OpenBLAS when built, see README). Killed or
interrupted, the same command resumes from the newest checkpoint in CKPT_DIR. The result in CKPT_DIR is a
Hugging Face model directory (config.json, model.safetensors, tokenizer) that transformers loads.

Data and model
  --data PATH            a study run directory (trains on its generated documents), a .jsonl file
                         ({"text"}, {"prompt","text"} or chat {"messages"}), or a .txt/.md file
  --train-on MODE        for a study run directory: response (default; the generated documents) or chat
                         (prompt + response, loss on the response only)
  --model HF_DIR         finetune this Hugging Face directory (Llama, Mistral, Qwen2, SmolLM)
  --from-scratch FILE    a config.json for a new model (a tokenizer.json beside it is used; otherwise a
                         byte-level BPE tokenizer of the config's vocab size is trained on the data)
  --out CKPT_DIR         output and checkpoint directory
  --replay FILE          generic text mixed into the training data (e.g. 10% replay)
  --replay-ratio R       share of the training tokens taken from --replay (default 0.1 with --replay)
  --keep-order           pack documents in their file order (default: a seeded shuffle, so restatements
                         of one chunk do not share a context window)

Training
  --lr LR                peak learning rate (default 3e-4)
  --steps N | --epochs N length of the run (default: 1 epoch)
  --seq-len N            tokens per sequence (default min(512, the model's context))
  --batch-tokens N       tokens per optimizer step (default 8192)
  --micro-batch-tokens N tokens per forward/backward pass; gradients are accumulated up to --batch-tokens
                         (default: as many as fit in max(256 MiB, 1/4 of the training state))
  --warmup N             warmup steps (default min(100, 10% of the steps))
  --schedule S           cosine (default), linear or constant
  --weight-decay W       AdamW weight decay (default 0.1; never on norms and biases)
  --lora-rank R          train LoRA adapters of rank R instead of all weights
  --lora-alpha A         LoRA alpha (default 2 x rank)
  --lora-dropout P       LoRA dropout (default 0.05)
  --lora-targets LIST    comma-separated projections (default q_proj,k_proj,v_proj,o_proj)
  --checkpoint-every N   steps between checkpoints (default: 10 per run, at most 200 apart)
  --snapshots N          also keep N evenly spaced intermediate models in OUT/snapshots/step-*/ (loadable
                         Hugging Face directories, e.g. for eval at several training budgets)
  --export-gguf TYPE     also write CKPT_DIR/model-TYPE.gguf: f32, f16 or q8_0 (for node-llama-cpp, llama.cpp, Ollama)
  --threads N            kernel threads (default: all cores)
  --kernels K            auto (default), native or ts (also ACTIVE_READING_KERNELS)
  --seed N               seed for initialisation, data order and dropout (default 0)
  -h, --help             show this help
`;

const OPTIONS = {
  data: { type: 'string' },
  'train-on': { type: 'string' },
  model: { type: 'string' },
  'from-scratch': { type: 'string' },
  out: { type: 'string' },
  replay: { type: 'string' },
  'replay-ratio': { type: 'string' },
  'keep-order': { type: 'boolean' },
  lr: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  'seq-len': { type: 'string' },
  'batch-tokens': { type: 'string' },
  'micro-batch-tokens': { type: 'string' },
  warmup: { type: 'string' },
  schedule: { type: 'string' },
  'weight-decay': { type: 'string' },
  'lora-rank': { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-dropout': { type: 'string' },
  'lora-targets': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  snapshots: { type: 'string' },
  'export-gguf': { type: 'string' },
  threads: { type: 'string' },
  kernels: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(TRAIN_HELP);
    return 0;
  }
  if (!values.data) throw new UsageError('--data is required');
  if (!values.out) throw new UsageError('--out CKPT_DIR is required');
  if (!values.model === !values['from-scratch'])
    throw new UsageError('give exactly one of --model HF_DIR or --from-scratch CONFIG.json');
  if (values.steps !== undefined && values.epochs !== undefined)
    throw new UsageError('give --steps or --epochs, not both');
  const rank = parseNumber('--lora-rank', values['lora-rank'], { min: 1, integer: true });
  const options: EngineTrainOptions = {
    data: values.data,
    trainOn: parseChoice('--train-on', values['train-on'], ['response', 'chat'] as const),
    out: values.out,
    ...(values.model ? { model: values.model } : { fromScratch: values['from-scratch'] as string }),
    lr: parseNumber('--lr', values.lr, { min: 0 }),
    steps: parseCount('--steps', values.steps),
    epochs: parseNumber('--epochs', values.epochs, { min: 1, integer: true }),
    seqLen: parseNumber('--seq-len', values['seq-len'], { min: 2, integer: true }),
    batchTokens: parseCount('--batch-tokens', values['batch-tokens']),
    microBatchTokens: parseCount('--micro-batch-tokens', values['micro-batch-tokens']),
    warmup: parseNumber('--warmup', values.warmup, { min: 0, integer: true }),
    schedule: parseChoice('--schedule', values.schedule, ['cosine', 'linear', 'constant'] as const),
    weightDecay: parseNumber('--weight-decay', values['weight-decay'], { min: 0 }),
    checkpointEvery: parseNumber('--checkpoint-every', values['checkpoint-every'], { min: 1, integer: true }),
    snapshots: parseNumber('--snapshots', values.snapshots, { min: 0, max: 1000, integer: true }),
    exportGguf: parseChoice('--export-gguf', values['export-gguf'], ['f32', 'f16', 'q8_0'] as const),
    threads: parseNumber('--threads', values.threads, { min: 1, max: 1024, integer: true }),
    kernels: parseChoice('--kernels', values.kernels, ['auto', 'native', 'ts'] as const),
    seed: parseNumber('--seed', values.seed, { min: 0, integer: true }),
    ...(values['keep-order'] ? { keepOrder: true } : {}),
    ...(values.replay
      ? {
          replay: {
            file: values.replay,
            ratio: parseNumber('--replay-ratio', values['replay-ratio'], { min: 0, max: 0.99 }) ?? 0.1,
          },
        }
      : {}),
    ...(rank
      ? {
          lora: {
            rank,
            alpha: parseNumber('--lora-alpha', values['lora-alpha'], { min: 0 }) ?? 2 * rank,
            dropout: parseNumber('--lora-dropout', values['lora-dropout'], { min: 0, max: 0.9 }) ?? 0.05,
            ...(values['lora-targets']
              ? { targets: values['lora-targets'].split(',').map((t) => t.trim()) }
              : {}),
          },
        }
      : {}),
  };
  if (values['replay-ratio'] !== undefined && !values.replay)
    throw new UsageError('--replay-ratio needs --replay FILE');

  return withInterrupts('stopping after this step and saving a checkpoint', async (signal) => {
    const result = await trainWithEngine({ ...options, signal });
    process.stdout.write(
      `${result.status === 'complete' ? 'done' : 'interrupted'}: ${result.out} (${fmt(result.steps)} steps, loss ${result.finalLoss.toFixed(4)})\n`,
    );
    return result.status === 'complete' ? 0 : 130;
  });
}
