"""Learning-rate schedules."""

from __future__ import annotations

import math


def inverse_sqrt_lr(step: int, *, lr: float, warmup_steps: int, warmup_init_lr: float) -> float:
    """Linear warm-up followed by inverse square-root decay.

    Parameters
    ----------
    step : int
        Number of optimizer updates already made (the first update uses ``step=0``).
    lr : float
        Peak learning rate, reached at ``step == warmup_steps``.
    warmup_steps : int
        Length of the linear warm-up. With ``0`` there is no warm-up and the rate
        is ``lr / sqrt(max(step, 1))``.
    warmup_init_lr : float
        Learning rate at ``step == 0``.

    Returns
    -------
    float
        ``warmup_init_lr + (lr - warmup_init_lr) * step / warmup_steps`` while
        ``step < warmup_steps``, then ``lr * sqrt(warmup_steps / step)``; so the
        rate is ``lr / 2`` at ``4 * warmup_steps``.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if warmup_steps <= 0:
        return lr / math.sqrt(max(step, 1))
    if step < warmup_steps:
        return warmup_init_lr + (lr - warmup_init_lr) * step / warmup_steps
    return lr * math.sqrt(warmup_steps / step)
