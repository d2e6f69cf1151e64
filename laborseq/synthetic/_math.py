"""Small vectorised numerics of the synthetic process: stable log-sum-exp, softmax, sigmoids and row-wise draws."""

from __future__ import annotations

import numpy as np


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    """:math:`\\log \\sum \\exp x` along ``axis``, stable for large and all-infinite inputs."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def softmax(v: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, computed without overflow."""
    return np.exp(-np.logaddexp(0.0, -x))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """:math:`\\log \\sigma(x)`, computed without overflow."""
    return -np.logaddexp(0.0, -x)


def search_rows(cum: np.ndarray, cell: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per row, the first index ``j`` with ``cum[cell, j] > x`` (the last one if none): vectorised bisection."""
    k = cum.shape[1]
    lo = np.zeros(len(cell), dtype=np.int64)
    hi = np.full(len(cell), k - 1, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo.astype(np.int32)
        mid = (lo + hi) // 2
        right = cum[cell, mid] <= x
        lo = np.where(active & right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)


def draw_categorical(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probability proportional to ``shares``."""
    return np.minimum(np.searchsorted(np.cumsum(shares), rng.random(n) * shares.sum(), side="right"), len(shares) - 1)


def sample_rows(proba: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(proba, axis=1)
    return np.minimum((cum <= (u * cum[:, -1])[:, None]).sum(axis=1), proba.shape[1] - 1)


def pick_weighted(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, a column drawn with probability proportional to ``weights`` (some positive per row)."""
    cum = np.cumsum(weights, axis=1)
    j = (cum <= (u * cum[:, -1])[:, None]).sum(axis=1)
    last = weights.shape[1] - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    return np.minimum(j, last)
