"""The device layer of training: the precision policy, the gradient scaler path, fused AdamW's choice, compilation."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
import torch
from ddp_worker import ToyData, make_model, toy_loss

import laborseq.nn.train as train_module
from laborseq.nn.accelerator import (
    PrecisionPolicy,
    fused_adamw_available,
    inference_policy,
    peak_memory,
    precision_policy,
    to_device,
)
from laborseq.nn.checkpoint import load_checkpoint
from laborseq.nn.train import TrainConfig, train
from laborseq.nn.train_log import LOG_FILE, TrainingLog

CUDA = torch.device("cuda")
CPU = torch.device("cpu")


def config(**overrides) -> TrainConfig:
    base = {"lr": 1e-2, "warmup_steps": 5, "max_steps": 12, "max_tokens": 128, "device": "cpu", "seed": 0}
    return TrainConfig(**{**base, **overrides})


@pytest.fixture(scope="module")
def data() -> tuple[ToyData, ToyData]:
    return ToyData(200, seed=1), ToyData(60, seed=2)


@pytest.mark.parametrize(
    ("precision", "capability", "expected"),
    [
        ("auto", (9, 0), "bf16"),  # H100
        ("auto", (8, 0), "bf16"),  # A100
        ("auto", (7, 5), "fp16"),  # T4: no native bfloat16
        ("auto", (7, 0), "fp16"),  # V100
        ("fp16", (9, 0), "fp16"),
        ("fp32", (7, 0), "fp32"),
        ("bf16", (8, 6), "bf16"),
    ],
)
def test_precision_policy_on_cuda_devices(precision, capability, expected):
    policy = precision_policy(precision, CUDA, capability=capability)
    assert policy.name == expected and policy.device_type == "cuda"
    assert f"{capability[0]}.{capability[1]}" in policy.reason
    assert (policy.dtype is None) == (expected == "fp32")
    if expected == "fp16":
        assert "gradient scaler" in policy.reason or precision == "fp16"


def test_precision_policy_refuses_what_the_device_cannot_do():
    with pytest.raises(ValueError, match=r"compute capability 7.5 has no native bfloat16.*'fp16' or 'fp32'"):
        precision_policy("bf16", CUDA, capability=(7, 5))
    with pytest.raises(ValueError, match="'fp16' needs a CUDA device"):
        precision_policy("fp16", CPU)
    with pytest.raises(ValueError, match="precision must be one of"):
        precision_policy("fp8", CPU)
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="half")


def test_precision_policy_on_the_cpu(monkeypatch):
    monkeypatch.setattr(torch._C._cpu, "_get_cpu_capability", lambda: {"avx512_bf16": False, "amx_bf16": False})
    auto = precision_policy("auto", CPU)
    assert auto.name == "fp32" and auto.grad_scaler() is None and "no native bfloat16" in auto.reason
    with auto.autocast():
        assert not torch.is_autocast_enabled("cpu")
    for flag in ("avx512_bf16", "amx_bf16"):
        monkeypatch.setattr(torch._C._cpu, "_get_cpu_capability", lambda flag=flag: {flag: True})
        native = precision_policy("auto", CPU)
        assert native.name == "bf16" and "natively" in native.reason and native.grad_scaler() is None
    bf16 = precision_policy("bf16", CPU)
    with bf16.autocast():
        assert torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    assert fused_adamw_available(CPU) and fused_adamw_available(CUDA)
    assert to_device(torch.ones(3), "cpu").device == CPU
    assert peak_memory(CPU) > 0


class _ScaledFP32:
    """A policy with fp32 arithmetic and a CPU gradient scaler: exercises the scaler path without a GPU."""

    name = "fp32"
    reason = "test: fp32 with a gradient scaler"

    def autocast(self):
        return contextlib.nullcontext()

    def grad_scaler(self):
        return torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=3)


def test_the_gradient_scaler_path_makes_the_same_updates(data, tmp_path, monkeypatch):
    """Scaling the loss by a power of two and unscaling the gradients is exact in fp32, so a run through the
    scaler path (scale, unscale before clipping, step, update) ends with the weights of the plain path, and a
    run resumed from a checkpoint (which holds the scaler's state) ends with the same weights too."""
    plain = make_model()
    train(plain, toy_loss, data[0], config(clip_norm=0.05, precision="fp32"))
    monkeypatch.setattr(train_module, "precision_policy", lambda precision, device: _ScaledFP32())
    scaled = make_model()
    result = train(scaled, toy_loss, data[0], config(clip_norm=0.05), checkpoint_dir=tmp_path / "full")
    for a, b in zip(plain.parameters(), scaled.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert result.precision == "fp32 (test: fp32 with a gradient scaler)"
    saved = load_checkpoint(tmp_path / "full" / "last").config["trainer"]["grad_scaler"]
    assert saved["scale"] == 2.0**10 * 2 ** (12 // 3)  # grew every 3 steps without overflow

    cut = make_model()
    train(cut, toy_loss, data[0], config(clip_norm=0.05, max_steps=7), checkpoint_dir=tmp_path / "cut")
    resumed = make_model()
    train(resumed, toy_loss, data[0], config(clip_norm=0.05), checkpoint_dir=tmp_path / "cut")
    for a, b in zip(scaled.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_policy_is_recorded_in_the_result_and_the_log(data, tmp_path):
    log = TrainingLog(tmp_path, every=4)
    result = train(make_model(), toy_loss, data[0], config(max_steps=8), callback=log)
    policy = precision_policy("auto", torch.device("cpu"))
    assert result.precision == f"{policy.name} ({policy.reason})"
    lines = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert lines[0]["precision"] == result.precision and "precision" not in lines[1]


def test_policy_objects_are_plain_values():
    policy = PrecisionPolicy("bf16", "cuda", "why")
    assert policy.dtype == torch.bfloat16 and policy == PrecisionPolicy("bf16", "cuda", "why")


@pytest.mark.slow
def test_compiled_training_learns_like_eager(data):
    """``compile=True`` runs the forward pass through torch.compile (inductor, dynamic shapes) on the CPU."""
    eager, compiled = make_model(), make_model()
    a = train(eager, toy_loss, data[0], config(max_steps=6), valid_data=data[1])
    b = train(compiled, toy_loss, data[0], config(max_steps=6, compile=True), valid_data=data[1])
    assert math.isclose(a.best_valid_loss, b.best_valid_loss, rel_tol=1e-3)


def test_predictions_on_the_cpu_run_in_fp32_whatever_the_training_precision():
    for precision in ("auto", "bf16", "fp16", "fp32"):
        policy = inference_policy(precision, CPU)
        assert policy.name == "fp32" and policy.dtype is None
