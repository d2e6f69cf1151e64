"""A training log a user can watch during a long run: JSON lines, and TensorBoard when it is installed.

:class:`TrainingLog` is a ``callback`` of :func:`~laborseq.nn.train.train`. Every
``every`` updates, and at every evaluation, it appends one JSON line to
``<log_dir>/train_log.jsonl`` (update, epoch, training loss, learning rate,
tokens per second since the last line, and the validation loss when one was
just computed), which ``tail -f`` or pandas reads while training runs; with
``tensorboard=True`` the same scalars go to TensorBoard event files in
``log_dir`` (``pip install 'laborseq[tensorboard]'``). Under ``torchrun`` only
rank 0 writes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from laborseq.nn.train_config import TrainState

__all__ = ["LOG_FILE", "TrainingLog"]

LOG_FILE = "train_log.jsonl"


class TrainingLog:
    """Append training progress to ``log_dir`` (see the module docstring).

    Parameters
    ----------
    log_dir : path-like
        Directory of ``train_log.jsonl`` (and of TensorBoard's event files).
    every : int
        Updates between lines (an evaluation always writes one).
    tensorboard : bool
        Also write TensorBoard scalars ``train/loss``, ``train/lr``,
        ``train/tokens_per_second`` and ``valid/loss``.
    """

    def __init__(self, log_dir: str | os.PathLike[str], *, every: int = 50, tensorboard: bool = False) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.path = Path(log_dir)
        self.every = every
        self.main = os.environ.get("RANK", "0") == "0"
        self._writer: Any = None
        if self.main:
            self.path.mkdir(parents=True, exist_ok=True)
            if tensorboard:
                try:
                    from torch.utils.tensorboard import SummaryWriter  # noqa: PLC0415 - an optional extra
                except ImportError as err:
                    raise ImportError(
                        "TensorBoard logging needs the tensorboard package: pip install 'laborseq[tensorboard]'"
                    ) from err
                self._writer = SummaryWriter(str(self.path))
        self._last: tuple[int, float] | None = None  # (tokens, wall time) of the last line
        self._evaluations = 0
        self._lines = 0

    def __call__(self, state: TrainState) -> None:
        """Write a line when ``every`` updates have passed or an evaluation was just made."""
        evaluated = len(state.history) > self._evaluations
        self._evaluations = len(state.history)
        if not self.main or not (evaluated or state.step % self.every == 0):
            return
        now = time.perf_counter()
        rate = None
        if self._last is not None and now > self._last[1]:
            rate = (state.tokens - self._last[0]) / (now - self._last[1])
        self._last = (state.tokens, now)
        line = {
            "step": state.step,
            "epoch": state.epoch,
            "tokens": state.tokens,
            "loss": state.loss,
            "lr": state.lr,
            "tokens_per_second": rate,
            "valid_loss": state.history[-1]["valid_loss"] if evaluated else None,
            "elapsed": state.elapsed,
        }
        if not self._lines:  # the first line says in which precision the run trains, and why
            line["precision"] = state.precision
        self._lines += 1
        with open(self.path / LOG_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        if self._writer is not None:
            self._writer.add_scalar("train/loss", state.loss, state.step)
            self._writer.add_scalar("train/lr", state.lr, state.step)
            if rate is not None:
                self._writer.add_scalar("train/tokens_per_second", rate, state.step)
            if line["valid_loss"] is not None:
                self._writer.add_scalar("valid/loss", line["valid_loss"], state.step)
            self._writer.flush()

    def close(self) -> None:
        """Close the TensorBoard writer, if any."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
