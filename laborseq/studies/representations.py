"""Career representations for downstream models: one vector per person-year describing the career so far.

CAREER's representation is its hidden state (:meth:`CAREER.representations
<laborseq.models.CAREER.representations>`, owned by the model because it is the
network's). The baselines' representation is the history itself, one-hot
encoded: :func:`one_hot_history`, a function of the panel alone. Both describe,
at year :math:`t`, what a model conditions on when it predicts the state of
:math:`t`: the career before :math:`t`, never the state of :math:`t` itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from laborseq.panel import CareerPanel

__all__ = ["one_hot_history", "previous_occupation"]


def one_hot_history(panel: CareerPanel) -> pd.DataFrame:
    """The career before every person-year as one-hot features: the previous state and the shares of earlier states.

    Parameters
    ----------
    panel : CareerPanel
        The panel to describe (columns follow ``panel.states``, as a fitted model's ``classes_`` do).

    Returns
    -------
    pandas.DataFrame
        One row per panel row, indexed by ``(person_id, year)``: ``prev=<state>``
        (the previous observed state; all zero in a person's first year) and
        ``share=<state>`` (the share of the person's earlier observations spent
        in each state, the bag of jobs; all zero in the first year).

    Examples
    --------
    >>> from laborseq.datasets import load_wage_panel
    >>> one_hot_history(load_wage_panel()).shape
    (4360, 18)
    """
    k = len(panel.states)
    codes = panel.state_index().astype(np.int64)
    previous = panel.lagged_states(1).astype(np.int64)
    prev = np.zeros((len(panel), k))
    has_prev = previous >= 0
    prev[np.flatnonzero(has_prev), previous[has_prev]] = 1.0
    onehot = np.zeros((len(panel), k))
    onehot[np.arange(len(panel)), codes] = 1.0
    # earlier observations in each state: cumulative one-hot counts within person, less the current row
    offsets = panel.person_offsets()
    cumulative = np.cumsum(onehot, axis=0)
    before_person = np.vstack([np.zeros((1, k)), cumulative])[np.repeat(offsets[:-1], np.diff(offsets))]
    earlier_counts = cumulative - before_person - onehot
    earlier = earlier_counts.sum(axis=1, keepdims=True)
    share = np.divide(earlier_counts, earlier, out=np.zeros_like(earlier_counts), where=earlier > 0)
    columns = [f"prev={s}" for s in panel.states] + [f"share={s}" for s in panel.states]
    return pd.DataFrame(np.hstack([prev, share]), index=panel.person_year_index(), columns=columns)


def previous_occupation(onehot: pd.DataFrame) -> pd.DataFrame:
    """The ``prev=<state>`` columns of a :func:`one_hot_history` table: the previous observed occupation alone.

    Returns
    -------
    pandas.DataFrame
        The ``prev=`` columns (all zero in a person's first observed year).
    """
    columns = [c for c in onehot.columns if str(c).startswith("prev=")]
    if not columns:
        raise ValueError(f"no 'prev=<state>' columns among {list(onehot.columns)[:5]}: pass a one-hot history table")
    return onehot[columns]
