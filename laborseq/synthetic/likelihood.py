r"""The exact oracle of a synthetic process: forward filtering over latent types, row by row.

.. math::

    P(y_t \mid y_{<t}, x) = \sum_z P(z \mid y_{<t}, x)\, P(y_t \mid y_{<t}, z),

with the type posterior :math:`P(z \mid y_{<t}, x)` started at the prior
:meth:`~laborseq.synthetic.process.SyntheticCareers.type_log_prior` and
updated by every row of the person (context rows update it without being
scored). :func:`target_log_likelihood` and :func:`target_distributions` give
the log-probabilities and the full predictive distributions of a panel's
target rows; both run :func:`forward_filter` over blocks of persons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from laborseq.synthetic._math import log_sigmoid, logsumexp, sigmoid
from laborseq.synthetic.encoding import EncodedPanel, state_positions
from laborseq.synthetic.transitions import CareerHistory, TransitionTables

if TYPE_CHECKING:
    from laborseq.synthetic.process import SyntheticCareers

PROBA_CELLS = 4_000_000
"""Rows times states of the predictive distributions computed at once in :func:`target_distributions`."""


def target_log_likelihood(process: SyntheticCareers, data: EncodedPanel) -> np.ndarray:
    """Exact log-probability of every target row's state under ``process``, in row order.

    Parameters
    ----------
    process : SyntheticCareers
        The true process.
    data : EncodedPanel
        The panel, encoded against the process's states.

    Returns
    -------
    numpy.ndarray
        One log-probability per target row.
    """
    out = np.empty(len(data.states))
    for chunk in data.chunks():
        forward_filter(process, chunk, ll_out=out)
    return out[data.target]


def target_distributions(process: SyntheticCareers, data: EncodedPanel, states: Sequence[str]) -> np.ndarray:
    """Exact next-state distribution of every target row, shape ``(n_targets, len(states))``.

    Parameters
    ----------
    process : SyntheticCareers
        The true process.
    data : EncodedPanel
        The panel, encoded against the process's states.
    states : sequence of str
        The columns (the panel's states); they must include every state of the
        process, and other states get probability 0.

    Returns
    -------
    numpy.ndarray
        One distribution per target row.
    """
    columns = state_positions(process.states, states)
    k = len(process.states)
    rows = np.full(len(data.states), -1, dtype=np.int64)
    rows[data.target] = np.arange(int(data.target.sum()))
    out = np.zeros((int(data.target.sum()), len(states)))
    for chunk in data.chunks(max(1, PROBA_CELLS // k)):
        forward_filter(process, chunk, proba_rows=rows, proba_out=out, columns=columns)
    return out


def forward_filter(
    process: SyntheticCareers,
    data: EncodedPanel,
    *,
    ll_out: np.ndarray | None = None,
    proba_rows: np.ndarray | None = None,
    proba_out: np.ndarray | None = None,
    columns: np.ndarray | None = None,
) -> None:
    """Forward filter over the persons of ``data``, position by position.

    Writes the log-likelihood of every row into ``ll_out[data.row0 + row]``
    and/or the predictive distribution of target rows into
    ``proba_out[proba_rows[...]][:, columns]``.
    """
    lengths = data.lengths
    log_alpha = process.type_log_prior(data.population, data.female, data.race, data.region, data.birth, data.edu0)
    tab = process._tables(int(data.years.min()), int(data.years.max()))
    hist = CareerHistory(len(lengths), int(lengths.max()))
    for t in range(int(lengths.max())):
        idx = np.flatnonzero(lengths > t)
        rows = data.offsets[idx] + t
        y = data.states[rows]
        cell = (data.edu[rows], data.gender[idx], data.years[rows] - tab.year0)
        gap = None if t == 0 else (data.years[rows] - data.years[rows - 1]).astype(float)
        if proba_out is not None:
            sel = np.flatnonzero(proba_rows[data.row0 + rows] >= 0)
            if len(sel):
                alpha = np.exp(log_alpha[idx[sel]])
                dist = _step_distribution(
                    process, tab, hist, idx[sel], t, [c[sel] for c in cell], None if gap is None else gap[sel], alpha
                )
                proba_out[np.ix_(proba_rows[data.row0 + rows[sel]], columns)] = dist
        logp = _step_log_prob(process, tab, hist, idx, t, cell, gap, y)
        joint = log_alpha[idx] + logp
        ll = logsumexp(joint, axis=1)
        log_alpha[idx] = joint - ll[:, None]
        if ll_out is not None:
            ll_out[data.row0 + rows] = ll
        hist.update(idx, y, t)


def _step_log_prob(
    process: SyntheticCareers,
    tab: TransitionTables,
    hist: CareerHistory,
    idx: np.ndarray,
    t: int,
    cell: tuple[np.ndarray, ...],
    gap: np.ndarray | None,
    y: np.ndarray,
) -> np.ndarray:
    """:math:`\\log P(y_t \\mid y_{<t}, z)` for every type, shape (m, Z)."""
    e, g, yi = cell
    if t == 0:
        with np.errstate(divide="ignore"):
            return np.log(tab.init[e, g, yi, :, y])
    current = hist.current[idx]
    stay_logit = process._stay_logit(slice(None), current, hist.tenure[idx], gap)
    cand, weights = hist.return_weights(idx, t, process.recency)
    total = weights.sum(axis=1)
    has = total > 0
    w_y = np.where(cand == y[:, None], weights, 0.0).sum(axis=1) / np.where(has, total, 1.0)
    p_ret = sigmoid(process.params.return_type)[None, :] * has[:, None]
    move = p_ret * w_y[:, None] + (1 - p_ret) * tab.fresh(e, g, yi, current, y)
    with np.errstate(divide="ignore"):
        return np.where((y == current)[:, None], log_sigmoid(stay_logit), log_sigmoid(-stay_logit) + np.log(move))


def _step_distribution(
    process: SyntheticCareers,
    tab: TransitionTables,
    hist: CareerHistory,
    idx: np.ndarray,
    t: int,
    cell: Sequence[np.ndarray],
    gap: np.ndarray | None,
    alpha: np.ndarray,
) -> np.ndarray:
    """:math:`\\sum_z \\alpha_z P(\\cdot \\mid y_{<t}, z)` for m rows, shape (m, K)."""
    e, g, yi = cell
    m, k = len(idx), len(process.states)
    if t == 0:
        return np.einsum("mzk,mz->mk", tab.init[e, g, yi], alpha)
    current = hist.current[idx]
    stay = sigmoid(process._stay_logit(slice(None), current, hist.tenure[idx], gap))
    cand, weights = hist.return_weights(idx, t, process.recency)
    total = weights.sum(axis=1)
    has = total > 0
    ret = np.zeros((m, k))
    valid = cand >= 0
    np.add.at(ret, (np.nonzero(valid)[0], cand[valid]), (weights / np.where(has, total, 1.0)[:, None])[valid])
    p_ret = sigmoid(process.params.return_type)[None, :] * has[:, None]
    out = np.zeros((m, k))
    rows = np.arange(m)
    for z in range(process.n_types):
        dist = (1 - stay[:, z, None]) * (
            p_ret[:, z, None] * ret + (1 - p_ret[:, z, None]) * tab.fresh_all(e, g, yi, z, current)
        )
        dist[rows, current] = stay[:, z]
        out += alpha[:, z, None] * dist
    return out
