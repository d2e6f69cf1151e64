"""The progress bar of :func:`~laborseq.nn.train.train`: updates, or evaluations under early stopping."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from laborseq.nn.train_config import TrainConfig, TrainState

__all__ = ["TrainingBar"]


class TrainingBar:
    """The training bar: optimizer steps, or, under early stopping, evaluations with the patience used up.

    With ``patience`` the number of steps is unknown in advance (early stopping
    usually ends far before ``max_steps``), so the bar counts evaluations (epochs
    when ``eval_every`` is None) up to the most ``max_steps``/``max_epochs``
    allow, shows how many evaluations in a row have not improved, and is filled
    when training stops, for whatever reason.
    """

    def __init__(self, config: TrainConfig, state: TrainState, n_batches: int, *, enabled: bool) -> None:
        self.config = config
        self.by_evaluation = config.patience is not None
        steps = config.max_steps
        if config.max_epochs is not None:
            steps = min(steps or sys.maxsize, config.max_epochs * n_batches)
        every = config.eval_every or n_batches
        if self.by_evaluation:
            total, initial, unit = (-(-steps // every) if steps else None), len(state.history), "eval"
        else:
            total, initial, unit = steps, state.step, "step"
        self.bar = tqdm(total=total, initial=initial, unit=unit, dynamic_ncols=True, disable=not enabled)

    def step(self, state: TrainState, *, evaluated: bool, tokens_per_second: float) -> None:
        """Advance after an optimizer step (by one step, or by one evaluation when one was made)."""
        postfix = {"loss": f"{state.loss:.4f}", "lr": f"{state.lr:.2e}", "tok_s": f"{tokens_per_second:,.0f}"}
        if self.by_evaluation:
            postfix = {"step": f"{state.step:,}", **postfix}
            postfix["no_better"] = f"{state.evals_since_improvement}/{self.config.patience}"
            if evaluated:
                self.bar.update(1)
        else:
            self.bar.update(1)
        self.bar.set_postfix(postfix, refresh=False)

    def close(self, *, finished: bool) -> None:
        """Close the bar; a run that stopped (early or at its limit) ends full."""
        if finished and self.bar.total is not None and self.bar.n < self.bar.total:
            self.bar.total = self.bar.n
            self.bar.refresh()
        self.bar.close()
