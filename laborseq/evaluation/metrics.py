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


def roc_auc(y_true: np.ndarray, score: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Exact area under the ROC curve, ties counted half, weighted if asked.

    Parameters
    ----------
    y_true : array of bool or {0, 1}
        Observed outcome of each case.
    score : array of float
        Predicted score (probability) of each case; higher means "more likely positive".
    sample_weight : array of float, optional
        Non-negative weight of each case (survey weights); as scikit-learn's
        ``roc_auc_score(..., sample_weight=...)``.

    Returns
    -------
    float
        The Mann–Whitney statistic: over (positive, negative) pairs, weighted by the
        product of their weights, the share in which the positive case has the
        higher score, ties counting one half. NaN when there is no positive or no
        negative case (or weight).

    Notes
    -----
    Unweighted, computed from average ranks (:func:`scipy.stats.rankdata`):
    ``U = sum(ranks of positives) - n1 (n1 + 1) / 2``. Weighted, from the scores
    sorted once: each group of tied scores contributes its positive weight times
    the negative weight below it plus half its own negative weight.
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
    if sample_weight is not None:
        return _weighted_auc(y, s, _check_weights(sample_weight, y.shape, "roc_auc"))
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s, method="average")
    u = float(ranks[y].sum()) - n1 * (n1 + 1) / 2.0
    return u / (n1 * n0)


def _weighted_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.zeros(0, dtype=np.int64)
    positive = np.add.reduceat(w * y, starts) if len(s) else np.zeros(0)
    negative = np.add.reduceat(w * ~y, starts) if len(s) else np.zeros(0)
    total_positive, total_negative = positive.sum(), negative.sum()
    if total_positive <= 0 or total_negative <= 0:
        return float("nan")
    below = np.cumsum(negative) - negative
    return float((positive * (below + 0.5 * negative)).sum() / (total_positive * total_negative))


def _check_weights(weights: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != shape:
        raise ValueError(f"{where}: weights must have shape {shape}, got {w.shape}")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError(f"{where}: weights must be finite and non-negative")
    return w


def _mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    """The (weighted) mean; NaN for no cases or no weight."""
    if weights is None:
        return float(values.mean()) if len(values) else float("nan")
    total = float(weights.sum())
    return float((values * weights).sum() / total) if total > 0 else float("nan")


def binary_perplexity(
    y_true: np.ndarray, probability: np.ndarray, eps: float = EPS, weights: np.ndarray | None = None
) -> float:
    """``exp`` of the (weighted) mean binary log-loss of predicted event probabilities.

    Parameters
    ----------
    y_true : array of bool or {0, 1}
        Whether the event happened.
    probability : array of float
        Predicted probability of the event; clipped to ``[eps, 1 - eps]``.
    eps : float
        Clipping bound.
    weights : array of float, optional
        Weight of each case.

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
    w = None if weights is None else _check_weights(weights, y.shape, "binary_perplexity")
    if len(y) == 0:
        return float("nan")
    nll = -np.where(y, np.log(q), np.log1p(-q))
    return math.exp(_mean(nll, w))


def perplexity(log_probability: np.ndarray, weights: np.ndarray | None = None) -> float:
    """``exp(-mean(log p))`` (weighted if asked): infinite when some ``p`` is zero, NaN for no cases."""
    lp = np.asarray(log_probability, dtype=float)
    w = None if weights is None else _check_weights(weights, lp.shape, "perplexity")
    if len(lp) == 0:
        return float("nan")
    if not np.isfinite(lp[w > 0] if w is not None else lp).all():
        return float("inf")
    with np.errstate(over="ignore", invalid="ignore"):
        return math.exp(-_mean(np.where(np.isfinite(lp), lp, 0.0), w))


def event_summary(y_true: np.ndarray, probability: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """Observed rate, mean predicted probability, binary perplexity and ROC AUC of one event (weighted if asked).

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
    w = None if weights is None else _check_weights(weights, y.shape, "event_summary")
    return {
        "rate": _mean(y.astype(float), w),
        "predicted": _mean(q, w),
        "perplexity": binary_perplexity(y, q, weights=w),
        "auc": roc_auc(y, q, sample_weight=w),
    }
