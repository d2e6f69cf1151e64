"""GPU smoke tests: a training step in the device's precision, checkpoint and resume, the forecast stepper and
pinned-memory batches on CUDA. Marked ``gpu`` (left out of the default run); run on a GPU machine with
``.venv/bin/pytest -m gpu tests/test_gpu.py``."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_CAREER, make_panel
from ddp_worker import ToyData, make_model, toy_loss

from laborseq.models import CAREER
from laborseq.models.career.stepper import CareerStepper
from laborseq.nn.accelerator import precision_policy
from laborseq.nn.checkpoint import load_checkpoint
from laborseq.nn.encoding import CareerVocabulary
from laborseq.nn.train import TrainConfig, train

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

CUDA = torch.device("cuda")


def config(**overrides) -> TrainConfig:
    base = {"lr": 1e-2, "warmup_steps": 5, "max_steps": 20, "max_tokens": 128, "device": "cuda", "seed": 0}
    return TrainConfig(**{**base, **overrides})


def test_the_policy_follows_the_device() -> None:
    policy = precision_policy("auto", CUDA)
    native = torch.cuda.get_device_capability() >= (8, 0)
    assert policy.name == ("bf16" if native else "fp16")
    assert (policy.grad_scaler() is None) == native


def test_training_in_the_device_precision_checkpoints_and_resumes(tmp_path) -> None:
    data, valid = ToyData(200, seed=1), ToyData(60, seed=2)
    dtypes = set()

    def loss_fn(model, batch):
        dtypes.add(model(batch["tokens"][:, :1]).dtype)
        return toy_loss(model, batch)

    full = make_model()
    expected = train(full, loss_fn, data, config(checkpoint_every=5), valid_data=valid, checkpoint_dir=tmp_path / "a")
    assert dtypes == {precision_policy("auto", CUDA).dtype}
    assert math.isfinite(expected.best_valid_loss) and expected.peak_memory_bytes > 0
    assert expected.precision.startswith(precision_policy("auto", CUDA).name)
    assert all((p.dtype == torch.float32 and p.device.type == "cpu") or p.is_cuda for p in full.parameters())

    cut = make_model()
    train(
        cut, toy_loss, data, dataclasses.replace(config(checkpoint_every=5), max_steps=9), checkpoint_dir=tmp_path / "b"
    )
    resumed = make_model()
    again = train(resumed, toy_loss, data, config(checkpoint_every=5), valid_data=valid, checkpoint_dir=tmp_path / "b")
    assert again.steps == expected.steps
    a, b = load_checkpoint(tmp_path / "a" / "last").model, load_checkpoint(tmp_path / "b" / "last").model
    for key in a:  # GPU kernels are not bitwise deterministic: equal up to float noise
        torch.testing.assert_close(a[key], b[key], rtol=1e-3, atol=1e-4)


def test_compiled_training_on_the_gpu() -> None:
    result = train(make_model(), toy_loss, ToyData(200, seed=1), config(max_steps=8, compile=True))
    assert math.isfinite(result.history[-1]["train_loss"])


def test_batches_reach_the_device_through_pinned_memory() -> None:
    panel = make_panel(40, seed=3)
    encoded = CareerVocabulary.fit(panel).encode(panel)
    batch = encoded.collate(np.arange(8), CUDA)
    assert all(t.is_cuda for t in batch.values())
    cpu = encoded.collate(np.arange(8), "cpu")
    assert all(torch.equal(batch[k].cpu(), cpu[k]) for k in cpu)


def test_career_fit_predict_and_forecast_stepper_on_the_gpu() -> None:
    panel = make_panel(200, seed=8)
    gpu = CAREER(**{**TINY_CAREER, "n_layers": 2}, warmup_steps=5, max_steps=30, device="cuda").fit(panel, rng=0)
    assert gpu.training_["precision"].startswith(precision_policy("auto", CUDA).name)
    probs = gpu.predict_proba(panel)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    cpu = CAREER(**{**TINY_CAREER, "n_layers": 2}, warmup_steps=5, max_steps=30, device="cpu")
    cpu.net_, cpu.vocabulary_, cpu.classes_ = gpu.net_, gpu.vocabulary_, gpu.classes_
    np.testing.assert_allclose(probs, cpu.predict_proba(panel), atol=2e-2)  # bf16/fp16 against fp32

    history = panel.select_persons(panel.persons[:10])
    stepper = CareerStepper(gpu.net_, gpu.vocabulary_, history, 4, CUDA)
    covariates = history.data.groupby("person_id", sort=False).tail(1)[list(panel.covariates)]
    step = stepper.step(2010, covariates.loc[covariates.index.repeat(4)].reset_index(drop=True))
    assert step.shape == (40, len(gpu.classes_)) and np.allclose(step.sum(axis=1), 1.0, atol=1e-5)
    result = gpu.forecast(panel, origin=int(panel.data["year"].max()) - 2, horizon=2, n_samples=20, rng=0)
    shares = result.shares()
    assert isinstance(shares, pd.DataFrame) and len(shares) > 0
