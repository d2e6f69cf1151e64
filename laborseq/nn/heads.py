"""The two-stage (stay / move) output head shared by every model that uses it."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def two_stage_log_probs(logits: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of the next state under the two-stage factorisation.

    Parameters
    ----------
    logits : torch.Tensor
        Shape ``(..., K + 1)``: ``K`` move logits followed by the stay logit.
    prev : torch.Tensor
        Integer tensor of shape ``(...)``: index of the previous state, or ``-1``
        where there is none (a person's first observed year).

    Returns
    -------
    torch.Tensor
        Shape ``(..., K)``, log-probabilities that sum (in probability) to one.

    Notes
    -----
    With previous state :math:`i`, move logits :math:`\\ell` and stay logit
    :math:`\\eta`,

    .. math::

        P(y = i) = \\sigma(\\eta), \\qquad
        P(y = j) = (1 - \\sigma(\\eta))\\,
        \\frac{\\exp \\ell_j}{\\sum_{k \\ne i} \\exp \\ell_k}, \\quad j \\ne i.

    Where there is no previous state the stay logit is ignored and
    :math:`P(y = j) = \\operatorname{softmax}(\\ell)_j`, so no probability mass
    is wasted on the first year (the reference implementation puts the stay
    mass on its end-of-sequence token there).
    """
    move = logits[..., :-1]
    stay = logits[..., -1]
    n_states = move.shape[-1]
    has_prev = prev >= 0
    is_prev = F.one_hot(prev.clamp(min=0).long(), n_states).bool() & has_prev.unsqueeze(-1)
    masked = move.masked_fill(is_prev, float("-inf"))
    log_move = torch.log_softmax(masked, dim=-1) + F.logsigmoid(-stay).unsqueeze(-1)
    if n_states == 1:
        log_move = torch.full_like(log_move, float("-inf"))
    two_stage = torch.where(is_prev, F.logsigmoid(stay).unsqueeze(-1), log_move)
    return torch.where(has_prev.unsqueeze(-1), two_stage, torch.log_softmax(move, dim=-1))


def two_stage_proba(stay: np.ndarray, move: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Next-state probabilities from a stay probability and a move distribution.

    A convenience for count-based models: it converts ``stay`` (probability of
    staying in ``prev``) and ``move`` (a distribution over the other states; its
    entry at ``prev`` is ignored) into logits and applies
    :func:`two_stage_log_probs`, so every model shares one factorisation.

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
    stay = np.clip(np.asarray(stay, dtype=np.float64), 1e-300, 1 - 1e-16)
    with np.errstate(divide="ignore"):
        logits = np.concatenate([np.log(move), (np.log(stay) - np.log1p(-stay))[:, None]], axis=1)
    out = two_stage_log_probs(torch.from_numpy(logits), torch.from_numpy(np.asarray(prev, dtype=np.int64)))
    return out.exp().numpy()
