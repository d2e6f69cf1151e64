"""CAREER trained data-parallel: two CPU processes (gloo) under torchrun."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_panel

from laborseq.models import load_model
from laborseq.nn.checkpoint import load_checkpoint
from laborseq.nn.token_store import write_token_store

WORKER = Path(__file__).with_name("career_ddp_worker.py")


def torchrun(*args: str) -> None:
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(WORKER.parent)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(WORKER)]
    proc = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_two_processes_pretrain_one_model_from_a_token_store(tmp_path) -> None:
    store = write_token_store(make_panel(300, seed=4), tmp_path / "store")
    torchrun(str(tmp_path), str(store.path), "--recall")  # (the recall decay, used outside forward, syncs too)
    rank0, rank1 = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    np.testing.assert_array_equal(rank0, rank1)
    assert load_model(tmp_path / "model").net_.config.recall
    assert load_checkpoint(tmp_path / "ckpt" / "last").config["trainer"]["world_size"] == 2


def test_two_processes_train_one_model(tmp_path) -> None:
    torchrun(str(tmp_path))
    rank0, rank1 = np.load(tmp_path / "rank0.npy"), np.load(tmp_path / "rank1.npy")
    np.testing.assert_array_equal(rank0, rank1)  # both ranks hold the same (best) weights
    np.testing.assert_allclose(rank0.sum(axis=1), 1.0, atol=1e-12)
    last = load_checkpoint(tmp_path / "ckpt" / "last")
    assert last.config["trainer"]["step"] == 8
    assert last.config["metadata"]["model"] == "CAREER"
    assert not any(key.startswith("module.") for key in last.model)
    model = load_model(tmp_path / "model")
    history = model.training_["history"]
    assert history[-1]["valid_loss"] < history[0]["train_loss"]
