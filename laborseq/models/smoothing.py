"""Count tables with hierarchical Dirichlet smoothing (back-off to a parent distribution)."""

from __future__ import annotations

import numpy as np


def backoff(counts: np.ndarray, parent: np.ndarray, strength: float) -> np.ndarray:
    """Posterior-mean probabilities of counts under a Dirichlet prior centred on ``parent``.

    Parameters
    ----------
    counts : numpy.ndarray
        Shape ``(n, K)`` (or ``(K,)``), non-negative (weighted) counts.
    parent : numpy.ndarray
        Shape broadcastable to ``counts``; rows are distributions to shrink to.
    strength : float
        Total prior pseudo-count. Zero gives the maximum-likelihood estimate where
        a row has counts and the parent where it has none.

    Returns
    -------
    numpy.ndarray
        :math:`p_j = (n_j + \\alpha q_j) / (n + \\alpha)`; rows with no counts
        equal the parent (this is the back-off for unseen histories).
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    parent = np.broadcast_to(parent, counts.shape)
    denom = total + strength
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = (counts + strength * parent) / denom
    return np.where(denom > 0, probs, parent)


def weighted_counts(
    rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, weights: np.ndarray | None
) -> np.ndarray:
    """Dense ``(n_rows, n_cols)`` table of (weighted) co-occurrence counts."""
    flat = np.asarray(rows, dtype=np.int64) * n_cols + np.asarray(cols, dtype=np.int64)
    table = np.bincount(flat, weights=weights, minlength=n_rows * n_cols)
    return table.reshape(n_rows, n_cols).astype(np.float64)


def beta_backoff(successes: np.ndarray, trials: np.ndarray, parent: np.ndarray | float, strength: float) -> np.ndarray:
    """Posterior-mean success probability shrunk towards ``parent`` (``parent`` where no trials)."""
    parent = np.broadcast_to(np.asarray(parent, dtype=float), np.shape(trials))
    denom = trials + strength
    with np.errstate(invalid="ignore", divide="ignore"):
        est = (successes + strength * parent) / denom
    return np.where(denom > 0, est, parent)
