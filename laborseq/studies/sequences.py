"""A panel's sequences described before any model: what the chronogram, index plot and tables show.

:func:`describe_sequences` computes, with :mod:`laborseq.panel.descriptives`,
everything the sequence section of a report draws (:mod:`laborseq.report.sequences`),
at a level of states a reader can tell apart: a scheme with more than
``max_states`` states (occ1990dd's 330) is described by its coarser groups
(:func:`~laborseq.panel.descriptives.display_level`), and the description says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from laborseq.panel import WEIGHT, CareerPanel
from laborseq.panel.descriptives import (
    MAX_DISPLAY_STATES,
    IndexPlotData,
    SortRule,
    StateDistribution,
    TimeAxis,
    TransitionRates,
    display_level,
    index_plot_data,
    mean_time_in_state,
    state_distribution,
    transition_rates,
)

INDEX_PLOT_PERSONS = 5_000
"""Most persons an index plot draws; a larger panel is drawn from a random sample of persons (seed 0)."""


@dataclass(frozen=True)
class SequenceDescription:
    """The sequence descriptives of one panel.

    Attributes
    ----------
    name : str
        The panel's name.
    level : str or None
        The scheme's grouping level the states are described at (``None``: the panel's own states).
    titles : dict of str to str
        Title of every state described.
    distribution : StateDistribution
        State distribution over time (survey-weighted when ``weighted``).
    entropy : dict of str to pandas.Series
        Normalised transversal entropy: ``"weighted"`` and ``"unweighted"`` when weighted, else ``"unweighted"``.
    index : IndexPlotData
        The sorted sequences of the index plot (rows as tall as the weights when ``weighted``).
    index_sample : int or None
        Persons the index plot was sampled down to (``None``: all of them).
    transitions : TransitionRates
        Rates between consecutive observations.
    time_in_state : pandas.DataFrame
        Mean observed periods in each state (:func:`~laborseq.panel.descriptives.mean_time_in_state`).
    weighted : bool
        Whether the panel's survey weights were used.
    sort : str
        The index plot's sort rule.
    """

    name: str
    level: str | None
    titles: dict[str, str]
    distribution: StateDistribution
    entropy: dict[str, pd.Series]
    index: IndexPlotData
    index_sample: int | None
    transitions: TransitionRates
    time_in_state: pd.DataFrame
    weighted: bool
    sort: str


def describe_sequences(
    panel: CareerPanel,
    *,
    by: TimeAxis = "period",
    sort: SortRule = "first_state",
    weighted: bool | None = None,
    max_states: int = MAX_DISPLAY_STATES,
    index_persons: int = INDEX_PLOT_PERSONS,
) -> SequenceDescription:
    """Describe the sequences of ``panel`` (see :class:`SequenceDescription`).

    Parameters
    ----------
    panel : CareerPanel
        The panel.
    by : {"period", "age", "position"}, default "period"
        Time axis of the distribution, entropy and index plot.
    sort : {"first_state", "from_start"}, default "first_state"
        Order of the index plot's rows (:func:`~laborseq.panel.descriptives.index_order`).
    weighted : bool, optional
        Use the panel's survey weights (default: when it has them).
    max_states : int, default 20
        More states than this are described by the scheme's coarser groups.
    index_persons : int, default 5,000
        Most persons in the index plot (a random sample of persons beyond, seed 0).
    """
    weighted = panel.has_weight if weighted is None else weighted
    if weighted and not panel.has_weight:
        raise ValueError(f"panel {panel.name!r} has no survey weights; describe it with weighted=False")
    level = display_level(panel, max_states)
    shown = panel.coarsen(level) if level else panel
    weights = WEIGHT if weighted else None
    distribution = state_distribution(shown, by, weights)
    entropy = {"unweighted": state_distribution(shown, by).entropy()}
    if weighted:
        entropy = {"weighted": distribution.entropy(), **entropy}
    sample = index_persons if shown.n_persons > index_persons else None
    drawn = shown.sample_persons(index_persons, rng=0) if sample else shown
    return SequenceDescription(
        name=panel.name or "",
        level=level,
        titles={state: shown.scheme.title(state) for state in shown.states},
        distribution=distribution,
        entropy=entropy,
        index=index_plot_data(drawn, by, sort, weights),
        index_sample=sample,
        transitions=transition_rates(shown, weights),
        time_in_state=mean_time_in_state(shown, weights),
        weighted=weighted,
        sort=sort,
    )
