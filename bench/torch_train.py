"""PyTorch side of bench/train-throughput.ts: trains a Llama of the given shape on random tokens and
prints tokens/s and peak RSS as JSON. Same model, sequence length, batch, optimizer and threads as ours."""
import json
import resource
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
torch.manual_seed(0)
config = LlamaConfig(
    vocab_size=args["vocabSize"],
    hidden_size=args["hiddenSize"],
    intermediate_size=args["intermediateSize"],
    num_hidden_layers=args["numLayers"],
    num_attention_heads=args["numHeads"],
    num_key_value_heads=args["numKvHeads"],
    tie_word_embeddings=args["tieWordEmbeddings"],
    max_position_embeddings=args["seqLen"],
    attn_implementation="eager",
)
model = LlamaForCausalLM(config).float()
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
B, T = args["batch"], args["seqLen"]
gen = torch.Generator().manual_seed(1)
ids = torch.randint(0, args["vocabSize"], (B, T), generator=gen)


def step():
    opt.zero_grad(set_to_none=True)
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


for _ in range(args["warmup"]):
    step()
start = time.perf_counter()
for _ in range(args["steps"]):
    loss = step()
elapsed = time.perf_counter() - start
params = sum(p.numel() for p in model.parameters())
print(json.dumps({
    "tokens_per_s": B * T * args["steps"] / elapsed,
    "seconds_per_step": elapsed / args["steps"],
    "loss": loss,
    "params": params,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
