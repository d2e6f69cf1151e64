"""What the training device supports: the precision policy, host-to-device copies and peak memory.

Precision policy (:func:`precision_policy`)
    ``"auto"`` trains in bf16 autocast only where the device computes bfloat16
    natively (CUDA compute capability 8.0 or higher: A100, H100, L4, RTX 30xx
    and later); on older CUDA devices (V100, T4) in fp16 autocast with a
    gradient scaler; on CPUs that compute bfloat16 natively (AVX512-BF16 or
    AMX, :func:`cpu_computes_bf16`: Intel Cooper Lake and Sapphire Rapids and
    later, AMD Zen 4 and later) in bf16 autocast too (on nlswork it trains
    CAREER about 1.5 times faster to the same held-out perplexity:
    ``analyses/career_bf16.py``); on other CPUs in fp32. ``"bf16"``, ``"fp16"`` and ``"fp32"``
    ask for one format and are refused where the device cannot honour it
    (bf16 on a CUDA device without native support, fp16 off CUDA). Weights and
    optimizer state stay fp32 in every case. The policy says what it chose and
    why (:attr:`PrecisionPolicy.reason`); the trainer records it.
Host-to-device copies (:func:`to_device`)
    On CUDA, batches go through pinned (page-locked) host memory with a
    non-blocking copy (the host does not wait for the copy; the trainer still
    synchronises once per step when it reads the step's loss).
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch

PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp16", "fp32")
"""Accepted ``precision`` settings."""

NATIVE_BF16_CAPABILITY = (8, 0)
"""CUDA compute capability from which bfloat16 is native (Ampere)."""

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


@dataclass(frozen=True)
class PrecisionPolicy:
    """The floating-point format of a training or inference run on one device.

    Attributes
    ----------
    name : {"bf16", "fp16", "fp32"}
        The format of autocast regions (``"fp32"``: no autocast).
    device_type : str
        ``"cuda"``, ``"cpu"``, ...
    reason : str
        Why, in words (for the log).
    """

    name: str
    device_type: str
    reason: str

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, or ``None`` for fp32."""
        return _DTYPES[self.name]

    def autocast(self) -> AbstractContextManager:
        """The autocast context of the policy (disabled for fp32)."""
        dtype = self.dtype
        return torch.autocast(self.device_type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """A gradient scaler for fp16 (whose small range underflows gradients without one), else ``None``."""
        return torch.amp.GradScaler(self.device_type) if self.name == "fp16" else None


def precision_policy(
    precision: str, device: torch.device, *, capability: tuple[int, int] | None = None
) -> PrecisionPolicy:
    """The precision a run on ``device`` uses for the ``precision`` setting (see the module documentation).

    Parameters
    ----------
    precision : {"auto", "bf16", "fp16", "fp32"}
        The setting.
    device : torch.device
        The device of the run.
    capability : (int, int), optional
        The CUDA compute capability (default: asked from the device); tests
        pass one to check the rules without a GPU.

    Raises
    ------
    ValueError
        For an unknown setting, or a format the device cannot honour.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if device.type == "cuda":
        if capability is None:
            capability = torch.cuda.get_device_capability(device)
        major, minor = capability
        native = tuple(capability) >= NATIVE_BF16_CAPABILITY
        where = f"CUDA compute capability {major}.{minor}"
        if precision == "auto":
            if native:
                return PrecisionPolicy("bf16", "cuda", f"bf16 autocast: {where} computes bfloat16 natively")
            return PrecisionPolicy(
                "fp16", "cuda", f"fp16 autocast with a gradient scaler: {where} has no native bfloat16"
            )
        if precision == "bf16" and not native:
            raise ValueError(
                f"precision 'bf16': {where} has no native bfloat16 (it needs 8.0 or higher); "
                "use precision='fp16' or 'fp32' (or 'auto')"
            )
        return PrecisionPolicy(precision, "cuda", f"{precision} as asked, on {where}")
    if precision == "fp16":
        raise ValueError(f"precision 'fp16' needs a CUDA device, not {device.type}; use 'fp32' (or 'bf16' on the CPU)")
    if precision == "auto":
        if device.type == "cpu" and cpu_computes_bf16():
            return PrecisionPolicy(
                "bf16", "cpu", "bf16 autocast: this CPU computes bfloat16 natively (AVX512-BF16 or AMX)"
            )
        return PrecisionPolicy("fp32", device.type, f"fp32 on {device.type}: no native bfloat16 there")
    return PrecisionPolicy(precision, device.type, f"{precision} as asked, on {device.type}")


def cpu_computes_bf16() -> bool:
    """Whether this CPU has bfloat16 arithmetic (AVX512-BF16 or AMX-BF16), as torch's CPU feature detection says.

    Other CPUs run bf16 autocast by conversions to float32, slower than fp32 itself.
    """
    capability = getattr(torch._C._cpu, "_get_cpu_capability", None)  # cpuinfo's flags (torch 2.6 and later)
    flags = capability() if capability is not None else {}
    return bool(flags.get("avx512_bf16") or flags.get("amx_bf16"))


def inference_policy(precision: str, device: torch.device) -> PrecisionPolicy:
    """The precision of predictions on ``device`` for a model trained with ``precision``.

    On the CPU predictions run in fp32 (a model trained in bf16 or fp16 on a GPU
    predicts on a laptop); on CUDA they follow :func:`precision_policy`, falling
    back to ``"auto"`` where the trained format is not native to this device.
    """
    if device.type != "cuda":
        return PrecisionPolicy("fp32", device.type, f"fp32 for predictions on {device.type}")
    try:
        return precision_policy(precision, device)
    except ValueError:
        return precision_policy("auto", device)


def to_device(tensor: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``tensor`` (on the CPU) on ``device``: through pinned memory with a non-blocking copy on CUDA."""
    device = torch.device(device)
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def fused_adamw_available(device: torch.device) -> bool:
    """Whether AdamW's fused kernel serves ``device`` (CUDA and the CPU); elsewhere the default implementation is
    used."""
    return device.type in ("cuda", "cpu")


def peak_memory(device: torch.device) -> int:
    """Peak CUDA memory allocated on ``device``, or on the CPU the peak resident set size of the process."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    try:
        import resource  # noqa: PLC0415 - a POSIX-only module: importing it at the top would break Windows
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
