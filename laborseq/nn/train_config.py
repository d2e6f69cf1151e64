"""The configuration, the state and the result of a training run (:func:`laborseq.nn.train.train`).

:class:`TrainConfig` holds the hyper-parameters, :class:`TrainState` where a run
stands (saved in checkpoints, passed to callbacks) and :class:`TrainResult` its summary.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from laborseq.nn.accelerator import PRECISIONS


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`train`.

    Attributes
    ----------
    lr : float
        Peak learning rate of the inverse square-root schedule.
    warmup_steps : int
        Steps of linear warm-up from ``warmup_init_lr`` to ``lr``.
    warmup_init_lr : float
        Learning rate of the first step.
    weight_decay : float
        AdamW's decoupled weight decay, applied to **all** parameters (biases,
        LayerNorm weights and embeddings included), as in the CAREER reference.
    betas, eps : tuple of float, float
        AdamW's moment coefficients and denominator term.
    max_steps, max_epochs : int, optional
        Stop after this many optimizer steps / passes over the training data,
        whichever comes first. At least one of them or ``patience`` must be set.
    max_tokens : int
        Padded-token budget of a batch (per process under DDP).
    clip_norm : float, optional
        Clip the global gradient norm to this value.
    eval_every : int, optional
        Steps between evaluations; None evaluates at the end of every epoch.
        There is also a final evaluation when training stops between evaluations.
    patience : int, optional
        Stop after this many evaluations without a lower validation loss.
    precision : {"auto", "bf16", "fp16", "fp32"}
        ``"auto"``: bf16 autocast on CUDA devices that compute bfloat16 natively
        (compute capability 8.0+), fp16 autocast with a gradient scaler on older
        ones; on the CPU bf16 autocast where it is native (AVX512-BF16, AMX), else fp32
        (:func:`~laborseq.nn.accelerator.precision_policy`).
        Weights and optimizer state stay fp32. The choice is in the result and
        the training state.
    compile : bool
        Run the forward pass through ``torch.compile`` (dynamic shapes; the
        first steps pay the compilation).
    device : str
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``; under ``torchrun``
        each process uses ``cuda:LOCAL_RANK``.
    seed : int
        Seeds the batch order (a function of ``(seed, epoch)``) and torch's RNG
        during training (``seed + rank``); the module's initialization is the caller's.
    progress : bool
        Show a tqdm bar with the loss, learning rate and tokens per second.
    checkpoint_every : int, optional
        Steps between resumable checkpoints; None writes one at every evaluation.
        One is always written when training stops.
    """

    lr: float = 5e-4
    warmup_steps: int = 4000
    warmup_init_lr: float = 1e-7
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    max_steps: int | None = 85_000
    max_epochs: int | None = None
    max_tokens: int = 16_000
    clip_norm: float | None = 1.0
    eval_every: int | None = None
    patience: int | None = None
    precision: str = "auto"
    compile: bool = False
    device: str = "auto"
    seed: int = 0
    progress: bool = False
    checkpoint_every: int | None = None

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        for name in ("max_steps", "max_epochs", "eval_every", "patience", "checkpoint_every"):
            value = getattr(self, name)
            if value is not None and value < (0 if name == "patience" else 1):
                raise ValueError(f"{name} must be positive or None, got {value}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.clip_norm is not None and self.clip_norm <= 0:
            raise ValueError(f"clip_norm must be positive or None, got {self.clip_norm}")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a JSON-serializable dict."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict` (unknown keys raise ``TypeError``)."""
        return cls(**values)


@dataclass
class TrainState:
    """Where training stands; saved in checkpoints and passed to the ``callback`` after every step.

    ``epoch`` counts completed passes and ``position`` the batches of the current
    epoch already done on this rank; ``tokens`` are summed over ranks.
    """

    step: int = 0
    epoch: int = 0
    position: int = 0
    tokens: int = 0
    elapsed: float = 0.0
    loss: float = math.nan
    lr: float = 0.0
    best_valid_loss: float | None = None
    best_step: int | None = None
    evals_since_improvement: int = 0
    last_eval_step: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_nll: float = 0.0  # summed NLL and token weight since the last evaluation
    train_weight: float = 0.0
    precision: str = ""  # the precision policy's choice and reason

    def to_dict(self) -> dict[str, Any]:
        """The state as a JSON-serializable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainState:
        """Inverse of :meth:`to_dict`."""
        return cls(**values)


@dataclass
class TrainResult:
    """Summary of a :func:`train` run.

    Attributes
    ----------
    steps : int
        Optimizer steps made (including those before a resume).
    epochs : float
        Passes over the training data, with the fraction of the current one.
    tokens : int
        Training tokens processed, summed over ranks.
    seconds, tokens_per_second : float
        Wall-clock training time (evaluation included) and throughput.
    best_step, best_valid_loss : int or None, float or None
        Step and value of the lowest validation loss (None without validation data).
    stopped : {"max_steps", "max_epochs", "early_stopping"}
        Why training stopped.
    history : list of dict
        One entry per evaluation: ``step``, ``epoch``, ``train_loss`` (mean since
        the previous entry), ``valid_loss`` (None without validation data), ``lr``,
        ``tokens``, ``tokens_per_second`` (since the previous entry) and ``elapsed``.
    peak_memory_bytes : int
        Peak CUDA memory allocated on this process's device, or on CPU the peak
        resident set size of the process.
    precision : str
        The precision policy's choice and its reason.
    """

    steps: int
    epochs: float
    tokens: int
    seconds: float
    tokens_per_second: float
    best_step: int | None
    best_valid_loss: float | None
    stopped: Literal["max_steps", "max_epochs", "early_stopping"]
    history: list[dict[str, Any]]
    peak_memory_bytes: int
    precision: str = ""
