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


def recall_weights(
    inputs: torch.Tensor, n_states: int, decay: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Decayed counts of the states a person held before each position, shape ``(B, T, K)``, in float32.

    Parameters
    ----------
    inputs : torch.Tensor
        Previous-state tokens, shape ``(B, T)``: ``inputs[:, s]`` is the state
        of observation ``s - 1``; index ``n_states`` (start of career and
        padding) counts for nothing.
    n_states : int
        Number of states ``K``.
    decay : torch.Tensor
        Scalar :math:`\\mu \\ge 0`, the decay per observation.
    mask : torch.Tensor, optional
        Boolean ``(B, 1, T, T)`` or ``(T, T)`` attention mask
        (:func:`~laborseq.nn.transformer.key_subset_mask`); position ``t``
        counts only the tokens it may attend to. Default: causal.

    Returns
    -------
    torch.Tensor
        :math:`w_t(j) = \\sum_{s \\le t,\\ \\text{kept}} e^{-\\mu (t - s)}\\, 1[\\text{inputs}_s = j]`.
    """
    length = inputs.shape[-1]
    position = torch.arange(length, device=inputs.device)
    lag = (position[:, None] - position[None, :]).clamp(min=0).float()
    allowed = torch.ones(length, length, dtype=torch.bool, device=inputs.device).tril()
    if mask is not None:
        allowed = mask[:, 0] if mask.dim() == 4 else mask
    with torch.autocast(inputs.device.type, enabled=False):
        kernel = torch.where(allowed, torch.exp(-decay.float() * lag), torch.zeros((), device=inputs.device))
        held = F.one_hot(inputs.long().clamp(max=n_states), n_states + 1)[..., :n_states].float()
        return torch.matmul(kernel, held)


def recall_log_probs(
    log_probs: torch.Tensor, gate: torch.Tensor, weights: torch.Tensor, prev: torch.Tensor, two_stage: bool = True
) -> torch.Tensor:
    """Mix the distribution of a fresh move with a return to an earlier state.

    Parameters
    ----------
    log_probs : torch.Tensor
        ``(..., K)``: the head's distribution without recall
        (:func:`two_stage_log_probs` or a softmax).
    gate : torch.Tensor
        ``(...)``: logit of :math:`\\gamma`, the probability that a move (with
        ``two_stage``, else any transition) returns to an earlier state.
    weights : torch.Tensor
        ``(..., K)``: :func:`recall_weights` of the earlier states.
    prev : torch.Tensor
        ``(...)``: the previous state, ``-1`` where there is none.
    two_stage : bool, default True
        Whether ``log_probs`` is two-stage: the previous state then keeps its
        stay probability and is left out of the returns.

    Returns
    -------
    torch.Tensor
        ``(..., K)`` log-probabilities.

    Notes
    -----
    With :math:`H` the earlier states other than the previous one
    (``two_stage``) and :math:`r_j = w_j / \\sum_{h \\in H} w_h` on :math:`H`,
    the two-stage distribution becomes

    .. math::

        P(y = i) = \\sigma(\\eta), \\qquad
        P(y = j) = (1 - \\sigma(\\eta))\\,\\big((1 - \\gamma)\\, q_j + \\gamma\\, r_j\\big), \\quad j \\ne i,

    where :math:`q` is the move distribution of :func:`two_stage_log_probs`;
    without ``two_stage``, :math:`P(y = j) = (1 - \\gamma) p_j + \\gamma r_j`. Where
    :math:`H` is empty (the first year, or a career in one state so far) the
    distribution is left as it is. The returns are a pointer-generator mixture
    (See, Liu and Manning 2017) over the career so far, with weights that
    decay with the number of observations since each earlier job.
    """
    n_states = log_probs.shape[-1]
    has_prev = prev >= 0
    is_prev = F.one_hot(prev.clamp(min=0).long(), n_states).bool() & has_prev.unsqueeze(-1)
    weights = weights.float()
    if two_stage:
        weights = weights.masked_fill(is_prev, 0.0)
    total = weights.sum(-1, keepdim=True)
    tiny = torch.finfo(weights.dtype).tiny
    log_return = torch.where(
        weights > 0, torch.log(weights.clamp(min=tiny)) - torch.log(total.clamp(min=tiny)), float("-inf")
    )
    gate = gate.float().unsqueeze(-1)
    if two_stage:
        # the move part: log (1 - sigma(eta)) q_j = log_probs_j off the previous state
        log_move = torch.logsumexp(log_probs.masked_fill(is_prev, float("-inf")), dim=-1, keepdim=True)
        log_q = log_probs - log_move
        mixed = torch.logaddexp(F.logsigmoid(-gate) + log_q, F.logsigmoid(gate) + log_return) + log_move
        mixed = torch.where(is_prev, log_probs, mixed)
    else:
        mixed = torch.logaddexp(F.logsigmoid(-gate) + log_probs, F.logsigmoid(gate) + log_return)
    can_return = total.squeeze(-1) > 0
    return torch.where(can_return.unsqueeze(-1), mixed, log_probs)
