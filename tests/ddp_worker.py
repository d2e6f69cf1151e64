"""Toy model and data for the ``laborseq.nn`` training tests, and the worker that ``tests/test_nn_ddp.py`` runs
under ``torchrun``.

Usage (as a worker): ``torchrun --standalone --nproc-per-node 2 tests/ddp_worker.py OUT_DIR``. Each rank trains
the toy model with :data:`DDP_CONFIG` and writes its final weights to ``OUT_DIR/rank{rank}.safetensors``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

VOCAB = 16


class ToyData:
    """Random integer sequences following ``next = (token + shift) % VOCAB`` with probability ``1 - noise``."""

    def __init__(self, n: int, *, seed: int, shift: int = 1, noise: float = 0.1, min_len: int = 2, max_len: int = 12):
        rng = np.random.default_rng(seed)
        self.sequences = []
        for length in rng.integers(min_len, max_len + 1, size=n):
            seq = [int(rng.integers(VOCAB))]
            for _ in range(length - 1):
                nxt = (seq[-1] + shift) % VOCAB if rng.random() > noise else int(rng.integers(VOCAB))
                seq.append(nxt)
            self.sequences.append(seq)

    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    def collate(self, index: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
        width = max(len(self.sequences[i]) for i in index)
        tokens = torch.zeros(len(index), width, dtype=torch.long)
        mask = torch.zeros(len(index), width)
        for row, i in enumerate(index):
            seq = self.sequences[i]
            tokens[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1.0
        return {"tokens": tokens.to(device), "mask": mask.to(device)}


class ToyModel(nn.Module):
    """Embedding, LayerNorm and a linear output: a bigram model."""

    def __init__(self, dim: int = 16):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim)
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, VOCAB)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.norm(self.embed(tokens)))


def toy_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed next-token NLL over real (unpadded) targets, and their number."""
    logits = model(batch["tokens"][:, :-1])
    nll = F.cross_entropy(logits.float().transpose(1, 2), batch["tokens"][:, 1:], reduction="none")
    mask = batch["mask"][:, 1:]
    return (nll * mask).sum(), mask.sum()


def make_model(seed: int = 0) -> ToyModel:
    torch.manual_seed(seed)
    return ToyModel()


def reference_train(module: nn.Module, data: ToyData, config, *, world_size: int = 1) -> None:
    """What ``train`` should do, written out plainly: every step pools the batches that the ranks of a
    ``world_size``-process run would see and takes one AdamW step on their mean loss."""
    from laborseq.nn.batching import epoch_batches
    from laborseq.nn.distributed import DistInfo, shard_batches
    from laborseq.nn.schedule import inverse_sqrt_lr

    opt = torch.optim.AdamW(
        module.parameters(), lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
    )
    step, epoch = 0, 0
    while step < config.max_steps:
        batches = epoch_batches(data.lengths(), config.max_tokens, seed=config.seed, epoch=epoch)
        shards = [shard_batches(batches, DistInfo(rank=r, world_size=world_size)) for r in range(world_size)]
        for per_rank in zip(*shards, strict=True):
            if step >= config.max_steps:
                break
            for group in opt.param_groups:
                group["lr"] = inverse_sqrt_lr(
                    step, lr=config.lr, warmup_steps=config.warmup_steps, warmup_init_lr=config.warmup_init_lr
                )
            nll, weight = zip(*(toy_loss(module, data.collate(i, torch.device("cpu"))) for i in per_rank), strict=True)
            loss = sum(nll) / sum(weight)
            opt.zero_grad()
            loss.backward()
            if config.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(module.parameters(), config.clip_norm)
            opt.step()
            step += 1
        epoch += 1


def ddp_config():
    from laborseq.nn.train import TrainConfig

    # 120 sequences of 2-12 tokens in batches of <= 56 tokens: 17 batches, padded to 18 for 2 ranks, so
    # 12 steps cross an epoch boundary.
    return TrainConfig(
        lr=1e-2,
        warmup_steps=3,
        max_steps=12,
        max_tokens=56,
        clip_norm=0.5,
        eval_every=4,
        device="cpu",
        seed=3,
        precision="fp32",  # compared exactly with a single process ("auto" is bf16 where the CPU computes it)
    )


def ddp_data() -> tuple[ToyData, ToyData]:
    return ToyData(120, seed=1), ToyData(40, seed=2)


def main(out_dir: str) -> None:
    from safetensors.torch import save_file

    from laborseq.nn.train import train

    out = Path(out_dir)
    rank = int(os.environ["RANK"])
    train_data, valid_data = ddp_data()
    module = make_model()
    result = train(module, toy_loss, train_data, ddp_config(), valid_data=valid_data, checkpoint_dir=out / "ckpt")
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, out / f"rank{rank}.safetensors")
    summary = {"steps": result.steps, "best_step": result.best_step, "best_valid_loss": result.best_valid_loss}
    (out / f"rank{rank}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1])
