"""Scoring helpers for forecasts: perplexity, binary log-loss perplexity and exact ROC AUC.

All functions are vectorised over person-years. Binary events follow the CAREER
forecasting evaluation: the predicted probability of an event is the sum of the
mean predicted distribution p̄ over the states that make up the event, and it is
scored with the binary log-loss (reported as a perplexity) and the ROC AUC.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

EPS = 1e-12
"""Probabilities are clipped to ``[EPS, 1 - EPS]`` before the binary log-loss."""

NOT_EMPLOYED_TOKENS: tuple[str, ...] = ("unemployed", "out_of_labor_force")
"""Status tokens that make up the ``"not_employed"`` event (those present in the classes)."""

EVENT_METRICS: tuple[str, ...] = ("rate", "predicted", "perplexity", "auc")
"""Per binary event, the metrics reported: observed rate, mean predicted probability,
binary perplexity and ROC AUC (columns ``{event}_{metric}`` in score tables)."""


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Exact area under the ROC curve, ties counted half.

    Parameters
    ----------
    y_true : array of bool or {0, 1}
        Observed outcome of each case.
    score : array of float
        Predicted score (probability) of each case; higher means "more likely positive".

    Returns
    -------
    float
        The Mann–Whitney statistic ``U / (n1 * n0)``: the share of (positive,
        negative) pairs in which the positive case has the higher score, ties
        counting one half. NaN when there is no positive or no negative case.

    Notes
    -----
    Computed from average ranks (:func:`scipy.stats.rankdata`), so it costs one
    sort: ``U = sum(ranks of positives) - n1 (n1 + 1) / 2``.
    """
    y = np.asarray(y_true)
    s = np.asarray(score, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"roc_auc: y_true and score must be 1-D of the same length, got {y.shape} and {s.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("roc_auc: y_true must be boolean or 0/1")
    if np.isnan(s).any():
        raise ValueError("roc_auc: score contains NaN")
    y = y.astype(bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s, method="average")
    u = float(ranks[y].sum()) - n1 * (n1 + 1) / 2.0
    return u / (n1 * n0)


def binary_perplexity(y_true: np.ndarray, probability: np.ndarray, eps: float = EPS) -> float:
    """``exp`` of the mean binary log-loss of predicted event probabilities.

    Parameters
    ----------
    y_true : array of bool or {0, 1}
        Whether the event happened.
    probability : array of float
        Predicted probability of the event; clipped to ``[eps, 1 - eps]``.
    eps : float
        Clipping bound.

    Returns
    -------
    float
        ``exp(-mean(y log q + (1 - y) log(1 - q)))``, between 1 (perfect) and 2
        (coin flip) for calibrated forecasts; NaN for no cases.
    """
    y = np.asarray(y_true).astype(bool)
    q = np.clip(np.asarray(probability, dtype=float), eps, 1.0 - eps)
    if y.shape != q.shape:
        raise ValueError(f"binary_perplexity: shapes differ, {y.shape} and {q.shape}")
    if len(y) == 0:
        return float("nan")
    nll = -np.where(y, np.log(q), np.log1p(-q))
    return math.exp(float(nll.mean()))


def perplexity(log_probability: np.ndarray) -> float:
    """``exp(-mean(log p))``: infinite when some ``p`` is zero, NaN for no cases."""
    lp = np.asarray(log_probability, dtype=float)
    if len(lp) == 0:
        return float("nan")
    with np.errstate(over="ignore", invalid="ignore"):
        return math.exp(-float(lp.mean())) if np.isfinite(lp).all() else float("inf")


def event_summary(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Observed rate, mean predicted probability, binary perplexity and ROC AUC of one event.

    Returns
    -------
    dict
        Keys :data:`EVENT_METRICS`; all NaN for no cases, ``auc`` NaN when the
        event always or never happened.
    """
    y = np.asarray(y_true).astype(bool)
    q = np.asarray(probability, dtype=float)
    if len(y) == 0:
        return dict.fromkeys(EVENT_METRICS, float("nan"))
    return {
        "rate": float(y.mean()),
        "predicted": float(q.mean()),
        "perplexity": binary_perplexity(y, q),
        "auc": roc_auc(y, q),
    }
