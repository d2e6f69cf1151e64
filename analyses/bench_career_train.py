"""Benchmark: CAREER training on nlswork on the CPU, laborseq against a bare-torch implementation of the network.

The ``paper`` configuration (12 layers, width 192, 3 heads, FFN 768, dropout
0.1; 5.35 million parameters on nlswork's vocabulary) trains on nlswork's
training persons (the 70/10/20 person split of ``laborseq compare``, seed 0)
in batches of 2,000 tokens. Both sides see the same batches in the same order
(laborseq's length-bucketed plan, :func:`laborseq.nn.batching.epoch_batches`)
and use AdamW with the same settings:

* **laborseq**: :func:`laborseq.nn.train.train` on a
  :class:`~laborseq.nn.career_net.CareerNet` (two-stage head, covariate
  embeddings, gradient clipping), at the precision ``--precision`` names
  (``auto``: bf16 autocast on CPUs with native bfloat16, see
  :func:`laborseq.nn.accelerator.precision_policy`);
* **reference**: the same network written in bare torch
  (``torch.nn.TransformerEncoderLayer`` blocks, pre-LayerNorm, GELU, a causal
  mask, a softmax head with cross-entropy) and a plain training loop, in fp32
  (the reference fairseq implementation trains in fp32 on CPUs).

Each side runs in a fresh process (so the peak resident memory is its own)
for ``--warmup`` untimed and ``--steps`` timed updates. Run from the
repository root::

    .venv/bin/python analyses/bench_career_train.py [--steps 60] [--precision auto,fp32]

``--precision auto+compile`` trains laborseq's side through ``torch.compile``
(the compilation happens in the warm-up updates, which are not timed).

Prints tokens per second (real person-years, not padding), seconds per update,
peak RSS, and laborseq's rate over the reference's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

MAX_TOKENS = 2_000


def _data():
    from laborseq.datasets import load_nlswork
    from laborseq.nn.encoding import CareerVocabulary

    train, _, _ = load_nlswork().split_persons((0.7, 0.1, 0.2), rng=0)
    vocab = CareerVocabulary.fit(train)
    return vocab, vocab.encode(train)


def run_laborseq(steps: int, warmup: int, precision: str, compile_: bool = False) -> dict:
    import torch

    from laborseq.nn.career_net import CareerNet, CareerNetConfig, career_loss
    from laborseq.nn.train import TrainConfig, train
    from laborseq.nn.transformer import DecoderConfig

    vocab, data = _data()
    torch.manual_seed(0)
    net = CareerNet(CareerNetConfig(len(vocab.states), tuple(v.size for v in vocab.inputs), DecoderConfig()))
    config = TrainConfig(
        max_steps=warmup + steps,
        max_tokens=MAX_TOKENS,
        warmup_steps=100,
        device="cpu",
        precision=precision,
        compile=compile_,
        seed=0,
    )
    marks: dict[int, tuple[float, int]] = {}

    def clock(state) -> None:
        if state.step in (warmup, warmup + steps):
            marks[state.step] = (time.perf_counter(), state.tokens)

    result = train(net, career_loss, data, config, callback=clock)
    (t0, k0), (t1, k1) = marks[warmup], marks[warmup + steps]
    policy = result.precision + (" compiled" if compile_ else "")
    return {"side": "laborseq", "policy": policy, "tokens": k1 - k0, "seconds": t1 - t0}


def run_reference(steps: int, warmup: int) -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    from laborseq.nn.batching import epoch_batches

    vocab, data = _data()
    torch.manual_seed(0)
    d, n_states = 192, len(vocab.states)

    class Reference(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.job = nn.Embedding(n_states + 1, d)
            self.inputs = nn.ModuleList(nn.Embedding(v.size, d) for v in vocab.inputs)
            layer = nn.TransformerEncoderLayer(d, 3, 768, 0.1, activation="gelu", batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, n_states)

        def forward(self, tokens: torch.Tensor, covariates: torch.Tensor) -> torch.Tensor:
            length = tokens.shape[1]
            position = torch.arange(length).unsqueeze(1) * torch.exp(torch.arange(0, d, 2) * (-np.log(1e4) / d))
            x = self.job(tokens) * d**0.5 + torch.cat([position.sin(), position.cos()], dim=1)
            for i, embedding in enumerate(self.inputs):
                x = x + embedding(covariates[..., i])
            mask = nn.Transformer.generate_square_subsequent_mask(length)
            return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))

    model = Reference()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    lengths = np.asarray(data.lengths())
    batches = [b for epoch in range(50) for b in epoch_batches(lengths, MAX_TOKENS, seed=0, epoch=epoch)]
    model.train()
    started, tokens = 0.0, 0
    for step, index in enumerate(batches[: warmup + steps]):
        if step == warmup:
            started, tokens = time.perf_counter(), 0
        batch = data.collate(index)
        logits = model(batch["inputs"], batch["covariates"])
        loss = F.cross_entropy(logits.reshape(-1, n_states), batch["targets"].reshape(-1), ignore_index=-1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        tokens += int(lengths[index].sum())
    return {
        "side": "reference",
        "policy": "fp32 (bare torch)",
        "tokens": tokens,
        "seconds": time.perf_counter() - started,
    }


def child(args: argparse.Namespace) -> None:
    if args.child == "reference":
        out = run_reference(args.steps, args.warmup)
    else:
        precision, _, compiled = args.child.partition("+")
        out = run_laborseq(args.steps, args.warmup, precision, compiled == "compile")
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--precision",
        default="auto,fp32",
        help="laborseq runs, comma-separated: a precision, '+compile' to train through torch.compile (auto+compile)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = []
    for side in ["reference", *args.precision.split(",")]:
        command = [sys.executable, __file__, "--child", side, "--steps", str(args.steps), "--warmup", str(args.warmup)]
        line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        results.append(json.loads(line))
        r = results[-1]
        rate = r["tokens"] / r["seconds"]
        print(
            f"{r['side']:<10} {r['policy'][:60]:<60} {rate:8,.0f} tokens/s  "
            f"{r['seconds'] / args.steps:.3f} s/update  peak RSS {r['peak_rss_gb']:.2f} GiB",
            flush=True,
        )
    reference = results[0]["tokens"] / results[0]["seconds"]
    for r in results[1:]:
        label = r["policy"].split()[0] + (" compiled" if r["policy"].endswith("compiled") else "")
        print(f"ratio laborseq ({label}) / reference: {r['tokens'] / r['seconds'] / reference:.2f}")


if __name__ == "__main__":
    main()
