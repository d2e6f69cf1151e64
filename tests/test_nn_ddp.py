"""DistributedDataParallel for real: two CPU processes (gloo) under torchrun against a single-process reference."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ddp_worker import ddp_config, ddp_data, make_model, reference_train, toy_loss
from safetensors.torch import load_file

from laborseq.nn.checkpoint import load_checkpoint
from laborseq.nn.train import evaluate

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> Path:
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(WORKER.parent)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(WORKER),
        str(out),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], **tol) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=lambda m, key=key: f"{key}: {m}", **tol)


def test_ranks_agree_and_match_single_process_on_pooled_batches(ddp_run):
    rank0 = load_file(ddp_run / "rank0.safetensors")
    rank1 = load_file(ddp_run / "rank1.safetensors")
    _assert_same(rank0, rank1, rtol=0, atol=0)

    train_data, valid_data = ddp_data()
    config = ddp_config()
    reference = make_model()
    reference_train(reference, train_data, config, world_size=2)
    last = load_checkpoint(ddp_run / "ckpt" / "last")
    assert not any(k.startswith("module.") for k in last.model)
    assert last.config["trainer"]["step"] == config.max_steps
    _assert_same(last.model, reference.state_dict(), rtol=1e-5, atol=1e-6)

    # the module ends with the best weights, and the pooled validation loss is that of the whole set
    best = load_checkpoint(ddp_run / "ckpt" / "best")
    _assert_same(best.model, rank0, rtol=0, atol=0)
    best_step = best.config["trainer"]["step"]
    at_best = make_model()
    reference_train(at_best, train_data, dataclasses.replace(config, max_steps=best_step), world_size=2)
    expected = evaluate(at_best, toy_loss, valid_data, max_tokens=config.max_tokens, precision="fp32")
    assert best.config["trainer"]["valid_loss"] == pytest.approx(expected, rel=1e-5)


def test_only_rank_zero_writes_checkpoints(ddp_run):
    ckpt = ddp_run / "ckpt"
    assert sorted(p.name for p in ckpt.iterdir()) == ["best", "last"]
    files = {p.name for p in (ckpt / "last").iterdir()}
    assert files == {"config.json", "model.safetensors", "optimizer.safetensors"}
