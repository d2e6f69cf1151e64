"""The two-stage (stay / move) output head shared by every model that uses it."""

from __future__ import annotations

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
