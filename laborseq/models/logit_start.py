"""Starting values of the transition logit from counts: the first-order Markov chain written as a logit.

Most of a career logit's likelihood is the previous state's effect, and its
unpenalised, one-feature version has a closed form: the (smoothed) transition
frequencies. Starting the optimiser there, rather than at zero, leaves it the
covariates' effects and the interactions to find. The parameters are laid out
as :meth:`~laborseq.models.loglinear.LogLinear.flat_parameters` (intercept, the
non-reference levels of each categorical feature, numeric features) with one
column per free logit.
"""

from __future__ import annotations

import numpy as np

from laborseq.models.features import EncodedFeatures

SMOOTHING = 0.5
"""Pseudo-count added to every cell of the count tables (keeps the logs finite)."""


def markov_start(
    features: EncodedFeatures,
    y: np.ndarray,
    prev: np.ndarray | None,
    weights: np.ndarray | None,
    n_classes: int,
    *,
    two_stage: bool,
    base_class: bool,
) -> np.ndarray:
    """Parameters of the smoothed first-order Markov chain as a logit on ``features``' design.

    Parameters
    ----------
    features : EncodedFeatures
        The training rows' features; the chain enters through ``previous_state`` (without it, only the
        intercept is set: the outcome frequencies).
    y : numpy.ndarray
        Outcome of each row (an index into the model's classes).
    prev : numpy.ndarray, optional
        Previous outcome of each row (two-stage head; an index into the classes).
    weights : numpy.ndarray, optional
        Row weights.
    n_classes : int
        Number of outcomes.
    two_stage, base_class : bool
        The model's head (see :class:`~laborseq.models.loglinear.LogLinear`).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_columns, width)``: zero except the intercept and the ``previous_state`` rows.
    """
    n = len(y)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    codes = features.codes.get("previous_state", np.zeros(n, dtype=np.int64))
    n_levels = len(features.levels.get("previous_state", [None]))
    if two_stage:
        stay = (prev == y) & (prev >= 0)
        move = _log_shares(codes, y, w * ~stay, n_levels, n_classes)
        stayed = np.bincount(codes, w * stay, minlength=n_levels) + SMOOTHING
        total = np.bincount(codes, w, minlength=n_levels) + 2 * SMOOTHING
        logits = np.column_stack([move, np.log(stayed / (total - stayed))])
    else:
        logits = _log_shares(codes, y, w, n_levels, n_classes)
    moves = slice(0, n_classes)  # the (move) logits; with the two-stage head the stay logit follows
    if base_class:  # outcome 0 (the move base with the two-stage head) is fixed at zero
        logits[:, moves] -= logits[:, :1]
        logits = np.delete(logits, 0, axis=1)
    else:  # the penalised optimum's (move) logits sum to zero over the outcomes
        logits[:, moves] -= logits[:, moves].mean(axis=1, keepdims=True)
    n_columns = 1 + sum(max(len(v) - 1, 0) for v in features.levels.values()) + features.numeric.shape[1]
    start = np.zeros((n_columns, logits.shape[1]))
    start[0] = logits[0]  # the reference level's logits are the intercept
    if "previous_state" in features.codes:
        names = list(features.levels)
        row = 1 + sum(max(len(features.levels[k]) - 1, 0) for k in names[: names.index("previous_state")])
        start[row : row + n_levels - 1] = logits[1:] - logits[0]
    return start


def _log_shares(codes: np.ndarray, y: np.ndarray, w: np.ndarray, n_levels: int, n_classes: int) -> np.ndarray:
    """Log of the smoothed weighted share of each outcome by level, ``(n_levels, n_classes)``."""
    counts = np.bincount(codes * n_classes + y, w, minlength=n_levels * n_classes).reshape(n_levels, n_classes)
    counts += SMOOTHING
    return np.log(counts / counts.sum(axis=1, keepdims=True))
