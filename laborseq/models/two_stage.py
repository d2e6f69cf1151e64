"""The two-stage (stay / move) factorisation for count models, through the one shared implementation."""

from __future__ import annotations

import numpy as np


def two_stage_proba(stay: np.ndarray, move: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Next-state probabilities from a stay probability and a move distribution.

    A convenience for count-based models: it converts ``stay`` (probability of
    staying in ``prev``) and ``move`` (a distribution over the other states; its
    entry at ``prev`` is ignored) into logits and applies
    :func:`~laborseq.nn.heads.two_stage_log_probs`, so every model shares one factorisation.

    Parameters
    ----------
    stay : numpy.ndarray
        Shape ``(n,)``, in ``(0, 1)``; ignored where ``prev`` is ``-1``.
    move : numpy.ndarray
        Shape ``(n, K)``, non-negative rows.
    prev : numpy.ndarray
        Shape ``(n,)``, previous state index or ``-1``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, K)``, rows summing to one.
    """
    # torch is imported only when a two-stage count model predicts: importing the count models stays light
    import torch  # noqa: PLC0415

    from laborseq.nn.heads import two_stage_log_probs  # noqa: PLC0415

    stay = np.clip(np.asarray(stay, dtype=np.float64), 1e-300, 1 - 1e-16)
    with np.errstate(divide="ignore"):
        logits = np.concatenate([np.log(move), (np.log(stay) - np.log1p(-stay))[:, None]], axis=1)
    out = two_stage_log_probs(torch.from_numpy(logits), torch.from_numpy(np.asarray(prev, dtype=np.int64)))
    return out.exp().numpy()
