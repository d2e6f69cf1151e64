"""What a model predicted for every held-out target, summarised once for every breakdown of a comparison."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from laborseq.occupations.scheme import OccupationScheme

__all__ = ["MAX_GROUPS", "TargetPredictions", "summarize_predictions", "transition_groups"]

MAX_GROUPS = 16
"""Most groups shown in transition tables; schemes with more states and no major groups keep the commonest."""


@dataclass(frozen=True)
class TargetPredictions:
    """What a model predicted for every test target, summarised.

    Attributes
    ----------
    log_likelihood : numpy.ndarray
        Log-probability of the observed state.
    p_stay : numpy.ndarray
        Probability of the previous observed state (staying); ``nan`` for first years.
    rank : numpy.ndarray
        Rank of the observed state among the predicted probabilities (1 = the
        most likely; ties counted in the observed state's favour).
    top_proba : numpy.ndarray
        Largest predicted probability.
    top_correct : numpy.ndarray
        Whether the most likely state is the observed one.
    group_proba : numpy.ndarray
        Predicted probability of every transition group
        (:func:`transition_groups`), shape ``(n_targets, n_groups)``.
    """

    log_likelihood: np.ndarray
    p_stay: np.ndarray
    rank: np.ndarray
    top_proba: np.ndarray
    top_correct: np.ndarray
    group_proba: np.ndarray


def summarize_predictions(
    proba: np.ndarray, observed: np.ndarray, previous: np.ndarray, group_of_state: np.ndarray, n_groups: int
) -> TargetPredictions:
    """Summarise a ``(n_targets, K)`` matrix of predicted distributions.

    Parameters
    ----------
    proba : numpy.ndarray
        Predicted distributions, one row per target.
    observed : numpy.ndarray
        Observed state index of every target.
    previous : numpy.ndarray
        Previous observed state index, ``-1`` for first years.
    group_of_state : numpy.ndarray
        Transition group of every state (``-1``: in no group).
    n_groups : int
        Number of transition groups.
    """
    rows = np.arange(len(observed))
    p_observed = proba[rows, observed]
    with np.errstate(divide="ignore"):
        log_likelihood = np.log(p_observed)
    has_previous = previous >= 0
    p_stay = np.where(has_previous, proba[rows, np.maximum(previous, 0)], np.nan)
    rank = 1 + (proba > p_observed[:, None]).sum(axis=1)
    top = proba.argmax(axis=1)
    in_group = group_of_state >= 0
    membership = np.zeros((proba.shape[1], n_groups))
    membership[np.flatnonzero(in_group), group_of_state[in_group]] = 1.0
    return TargetPredictions(
        log_likelihood=log_likelihood,
        p_stay=p_stay,
        rank=rank.astype(np.int32),
        top_proba=proba[rows, top],
        top_correct=top == observed,
        group_proba=(proba @ membership).astype(np.float32),
    )


def transition_groups(scheme: OccupationScheme, counts: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Groups of states for transition tables, and the group of every state.

    Schemes with major groups use them; schemes of at most :data:`MAX_GROUPS`
    states use the states; otherwise the ``MAX_GROUPS - 1`` commonest states
    (by ``counts``) keep their own group and the rest are ``other states``.

    Returns
    -------
    labels : list of str
        Group labels.
    group_of_state : numpy.ndarray
        Index into ``labels`` of every state of ``scheme``.
    """
    states = scheme.states
    if "major_group" in scheme.groups:
        names = [scheme.group_of(s, "major_group") for s in states]
        labels = list(dict.fromkeys(names))
        return labels, np.array([labels.index(n) for n in names], dtype=np.int64)
    if len(states) <= MAX_GROUPS:
        return [_state_label(scheme, s) for s in states], np.arange(len(states))
    keep = np.argsort(-np.asarray(counts), kind="stable")[: MAX_GROUPS - 1]
    group = np.full(len(states), MAX_GROUPS - 1, dtype=np.int64)
    group[keep] = np.arange(len(keep))
    return [_state_label(scheme, states[i]) for i in keep] + ["other states"], group


def _state_label(scheme: OccupationScheme, state: str) -> str:
    title = scheme.title(state)
    return state if title == state else f"{state} {title}"
