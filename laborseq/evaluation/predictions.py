"""What a model predicted for every held-out target, summarised once for every breakdown of a comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel

__all__ = [
    "MAX_GROUPS",
    "TOP_K",
    "TargetPredictions",
    "predict_table",
    "prediction_table",
    "summarize_predictions",
    "top_states",
    "transition_groups",
]

MAX_GROUPS = 16
"""Most groups shown in transition tables; schemes with more states and no major groups keep the commonest."""

TOP_K = 5
"""Most likely states kept per target (for the predictions table)."""


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
    top_states, top_probas : numpy.ndarray
        The :data:`TOP_K` most likely states (indices, most likely first) and
        their probabilities, shape ``(n_targets, TOP_K)`` (fewer columns when
        there are fewer states).
    """

    log_likelihood: np.ndarray
    p_stay: np.ndarray
    rank: np.ndarray
    top_proba: np.ndarray
    top_correct: np.ndarray
    group_proba: np.ndarray
    top_states: np.ndarray
    top_probas: np.ndarray


def top_states(proba: np.ndarray, k: int = TOP_K) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most likely states of every row (indices, most likely first) and their probabilities."""
    n_states = proba.shape[1]
    k = min(k, n_states)
    if k < n_states:
        part = np.sort(np.argpartition(-proba, k - 1, axis=1)[:, :k], axis=1)
    else:
        part = np.tile(np.arange(n_states), (len(proba), 1))
    order = np.argsort(-np.take_along_axis(proba, part, axis=1), axis=1, kind="stable")
    index = np.take_along_axis(part, order, axis=1)
    return index.astype(np.int32), np.take_along_axis(proba, index, axis=1)


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
    best_states, best_probas = top_states(proba)
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
        top_states=best_states,
        top_probas=best_probas,
    )


def prediction_table(
    model: str,
    targets: pd.DataFrame,
    log_likelihood: np.ndarray,
    top_index: np.ndarray,
    top_proba: np.ndarray,
    states: Sequence[str],
) -> pd.DataFrame:
    """One row per scored person-year: what ``model`` predicted.

    Parameters
    ----------
    model : str
        Model name (a column, so that tables of several models stack).
    targets : pandas.DataFrame
        ``panel.targets()`` of the scored panel (``person_id``, ``year``, ``occ``).
    log_likelihood : numpy.ndarray
        Natural log of the probability of the observed state.
    top_index, top_proba : numpy.ndarray
        From :func:`top_states`.
    states : sequence of str
        The model's ``classes_``.

    Returns
    -------
    pandas.DataFrame
        ``person_id``, ``year``, ``model``, ``observed``, ``log_likelihood``,
        then ``top1_state``, ``top1_proba``, ... ``top<k>_state``, ``top<k>_proba``.
    """
    labels = np.asarray(states, dtype=object)
    columns: dict[str, object] = {
        PERSON: targets[PERSON].to_numpy(),
        YEAR: targets[YEAR].to_numpy(),
        "model": pd.Categorical([model] * len(targets)),
        "observed": targets[OCC].astype(str).to_numpy(),
        "log_likelihood": np.asarray(log_likelihood, dtype=float),
    }
    for j in range(top_index.shape[1]):
        columns[f"top{j + 1}_state"] = labels[top_index[:, j]]
        columns[f"top{j + 1}_proba"] = top_proba[:, j].astype(float)
    return pd.DataFrame(columns)


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


def predict_table(model: Any, panel: CareerPanel, *, name: str = "model", k: int = TOP_K) -> pd.DataFrame:
    """What a fitted model predicts for every target person-year of ``panel``, as a :func:`prediction_table`.

    The log-likelihood and the top ``k`` states are read off ``model.predict_proba(panel)``.
    """
    proba = np.asarray(model.predict_proba(panel), dtype=float)
    targets = panel.targets()
    observed = panel.state_index()[panel.target_mask]
    with np.errstate(divide="ignore"):
        log_likelihood = np.log(proba[np.arange(len(observed)), observed])
    return prediction_table(name, targets, log_likelihood, *top_states(proba, k), model.classes_)
