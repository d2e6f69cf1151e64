"""Sequence descriptives of a panel: state distributions over time, entropy, transition rates, time in states.

The statistics that sequence analysts look at before any model (TraMineR's
``seqstatd``, ``seqtrate``, ``seqmeant`` and sort orders of ``seqIplot``;
their sequenzo counterparts), as functions of a
:class:`~laborseq.panel.core.CareerPanel`, survey-weighted when ``weights``
are given (:func:`~laborseq.panel.weights.resolve_weights`: ``"weight"`` for the
panel's column, one value per row, or a Series by person).

Gaps are kept as they are: a person counts at the time points where they are
observed, and a transition joins two consecutive observations (``max_gap``
limits how far apart they may be). Rows are weighted by their own weight; a
statistic of whole persons (time in each state, the rows of an index plot)
weights a person by the weight of their first observed row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from laborseq.panel.columns import OCC, PERSON, YEAR
from laborseq.panel.periods import calendar_year
from laborseq.panel.weights import WeightsLike, resolve_weights

if TYPE_CHECKING:
    from laborseq.panel.core import CareerPanel

TimeAxis = Literal["period", "age", "position"]
TIME_AXES: tuple[str, ...] = ("period", "age", "position")
"""Time axes of a state distribution: the calendar period, the age (``period - birth_year``) and the
position in the person's observed sequence (1 for the first observation)."""

SortRule = Literal["first_state", "from_start"]
SORT_RULES: tuple[str, ...] = ("first_state", "from_start")

BIRTH_YEAR = "birth_year"
"""The covariate that ages are computed from."""

MAX_DISPLAY_STATES = 20
"""Most states a figure draws in colours a reader can tell apart; larger schemes are drawn by group."""


@dataclass(frozen=True)
class StateDistribution:
    """The cross-sectional state distribution at every time point (a chronogram's numbers).

    Attributes
    ----------
    shares : pandas.DataFrame
        Index: time points; columns: the panel's states in scheme order; each row sums to one.
    persons : pandas.Series
        Persons observed at each time point (unweighted).
    weight : pandas.Series
        Their total weight (equal to ``persons`` when unweighted).
    axis : str
        ``"period"``, ``"age"`` or ``"position"``.
    weighted : bool
        Whether survey weights were used.
    rows_without_time : int
        Rows left out because they have no time point on this axis (``age`` without a birth year).
    time_unit : str
        The panel's time unit (periods are years or months; ages are in years).
    """

    shares: pd.DataFrame
    persons: pd.Series
    weight: pd.Series
    axis: str
    weighted: bool
    rows_without_time: int = 0
    time_unit: str = "year"

    def entropy(self, normalize: bool = True) -> pd.Series:
        """Transversal (cross-sectional) Shannon entropy at each time point.

        :math:`h_t = -\\sum_s p_{ts} \\log p_{ts}`, divided by :math:`\\log K` (``K`` states)
        when ``normalize``, as TraMineR's ``seqstatd`` and sequenzo do: 0 when everyone
        is in one state, 1 when the states are equally common.
        """
        p = self.shares.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, -p * np.log(p), 0.0)
        h = terms.sum(axis=1)
        n_states = self.shares.shape[1]
        if normalize:
            h = h / np.log(n_states) if n_states > 1 else np.zeros_like(h)
        return pd.Series(h, index=self.shares.index, name="entropy")


@dataclass(frozen=True)
class TransitionRates:
    """Transition rates between consecutive observations, with their counts.

    Attributes
    ----------
    rates : pandas.DataFrame
        ``rates.loc[i, j]``: the (weighted) share of observations in ``i`` whose next observation is in
        ``j``; rows sum to one, or are NaN for a state nobody leaves an observation from.
    counts : pandas.DataFrame
        Unweighted numbers of transitions from ``i`` to ``j``.
    origin_weight : pandas.Series
        Total weight of the transitions from each state (their count when unweighted).
    weighted : bool
        Whether survey weights were used (a transition carries its origin row's weight).
    max_gap : int or None
        Largest number of periods between the two observations of a transition counted.
    skipped : int
        Consecutive observations further apart than ``max_gap``, not counted.
    """

    rates: pd.DataFrame
    counts: pd.DataFrame
    origin_weight: pd.Series
    weighted: bool
    max_gap: int | None
    skipped: int


def time_points(panel: CareerPanel, by: TimeAxis = "period") -> np.ndarray:
    """The time point of every row on axis ``by`` (float, NaN where there is none).

    Periods are the panel's (years or months); ages are in whole years (calendar year minus birth year).

    Raises
    ------
    ValueError
        For an unknown axis, or ``by="age"`` on a panel without a ``birth_year`` covariate.
    """
    if by == "period":
        return panel.data[YEAR].to_numpy(dtype=float)
    if by == "position":
        return panel.positions().astype(float) + 1.0
    if by == "age":
        if BIRTH_YEAR not in panel.data.columns:
            raise ValueError(
                f"panel {panel.name!r}: by='age' needs a {BIRTH_YEAR!r} covariate; the panel has "
                f"{list(panel.covariates)}; use by='period' or by='position', or add the birth year"
            )
        birth = pd.to_numeric(panel.data[BIRTH_YEAR], errors="coerce").to_numpy(dtype=float)
        return calendar_year(panel.data[YEAR].to_numpy(), panel.time_unit).astype(float) - birth
    raise ValueError(f"by must be one of {TIME_AXES}, got {by!r}")


def person_weights(panel: CareerPanel, weights: WeightsLike = None) -> np.ndarray:
    """One weight per person (in the order of :attr:`CareerPanel.persons`): their first row's, or ones."""
    row_weights = resolve_weights(panel, weights)
    if row_weights is None:
        return np.ones(panel.n_persons)
    return row_weights[panel.person_offsets()[:-1]]


def state_distribution(panel: CareerPanel, by: TimeAxis = "period", weights: WeightsLike = None) -> StateDistribution:
    """The share of each state at every time point (TraMineR's ``seqstatd``), weighted if asked.

    Parameters
    ----------
    panel : CareerPanel
        The panel (every row counts, context rows included).
    by : {"period", "age", "position"}, default "period"
        The time axis (:func:`time_points`).
    weights : None, "weight", array or Series
        Row weights (:func:`~laborseq.panel.weights.resolve_weights`).

    Returns
    -------
    StateDistribution
    """
    time = time_points(panel, by)
    row_weights = resolve_weights(panel, weights)
    w = np.ones(len(panel)) if row_weights is None else row_weights
    known = ~np.isnan(time)
    labels = np.sort(np.unique(time[known])).astype(np.int64)
    position = np.searchsorted(labels, time[known].astype(np.int64))
    states = panel.state_index()[known]
    n_states = len(panel.states)
    mass = np.zeros((len(labels), n_states))
    np.add.at(mass, (position, states), w[known])
    persons = np.bincount(position, minlength=len(labels))
    total = mass.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = mass / total[:, None]
    index = pd.Index(labels, name=by)
    return StateDistribution(
        shares=pd.DataFrame(shares, index=index, columns=list(panel.states)),
        persons=pd.Series(persons, index=index, name="persons"),
        weight=pd.Series(total, index=index, name="weight"),
        axis=by,
        weighted=row_weights is not None,
        rows_without_time=int((~known).sum()),
        time_unit=panel.time_unit,
    )


def transversal_entropy(
    panel: CareerPanel, by: TimeAxis = "period", weights: WeightsLike = None, normalize: bool = True
) -> pd.Series:
    """Entropy of the state distribution at every time point (:meth:`StateDistribution.entropy`)."""
    return state_distribution(panel, by, weights).entropy(normalize)


def transition_rates(panel: CareerPanel, weights: WeightsLike = None, max_gap: int | None = None) -> TransitionRates:
    """Rates of moving from each state to each state between consecutive observations (TraMineR's ``seqtrate``).

    Parameters
    ----------
    panel : CareerPanel
        The panel.
    weights : None, "weight", array or Series
        Row weights; a transition carries the weight of its origin row.
    max_gap : int, optional
        Count only observations at most this many periods apart (``1``: adjacent periods, as a
        gap-free sequence has them). Default: every pair of consecutive observations.

    Returns
    -------
    TransitionRates
    """
    if max_gap is not None and max_gap < 1:
        raise ValueError(f"max_gap must be at least 1 (or None), got {max_gap}")
    row_weights = resolve_weights(panel, weights)
    w = np.ones(len(panel)) if row_weights is None else row_weights
    states = panel.state_index()
    has_next = np.ones(len(panel), dtype=bool)
    has_next[panel.person_offsets()[1:] - 1] = False
    origin = np.flatnonzero(has_next)
    years = panel.data[YEAR].to_numpy()
    gap = years[origin + 1] - years[origin]
    kept = origin if max_gap is None else origin[gap <= max_gap]
    n_states = len(panel.states)
    counts = np.zeros((n_states, n_states), dtype=np.int64)
    mass = np.zeros((n_states, n_states))
    np.add.at(counts, (states[kept], states[kept + 1]), 1)
    np.add.at(mass, (states[kept], states[kept + 1]), w[kept])
    origin_weight = mass.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = mass / origin_weight[:, None]
    labels = pd.Index(list(panel.states))
    return TransitionRates(
        rates=pd.DataFrame(rates, index=labels.rename("from"), columns=labels.rename("to")),
        counts=pd.DataFrame(counts, index=labels.rename("from"), columns=labels.rename("to")),
        origin_weight=pd.Series(origin_weight, index=labels.rename("from"), name="weight"),
        weighted=row_weights is not None,
        max_gap=max_gap,
        skipped=int(len(origin) - len(kept)),
    )


def mean_time_in_state(panel: CareerPanel, weights: WeightsLike = None) -> pd.DataFrame:
    """Mean number of observed periods a person spends in each state (TraMineR's ``seqmeant``).

    Persons are weighted by :func:`person_weights`. Columns: ``mean_periods`` (summing to the mean
    number of observations per person) and ``share`` (of all observed periods).
    """
    person_of_row = np.repeat(np.arange(panel.n_persons), np.diff(panel.person_offsets()))
    w = person_weights(panel, weights)
    n_states = len(panel.states)
    time = np.zeros(n_states)
    np.add.at(time, panel.state_index(), w[person_of_row])
    mean = time / w.sum() if w.sum() > 0 else np.full(n_states, np.nan)
    share = mean / mean.sum() if mean.sum() > 0 else mean
    frame = pd.DataFrame({"mean_periods": mean, "share": share}, index=pd.Index(list(panel.states), name=OCC))
    return frame


def index_order(panel: CareerPanel, sort: SortRule = "first_state") -> np.ndarray:
    """The order of persons in a sequence index plot, as positions into :attr:`CareerPanel.persons`.

    ``"first_state"``: by first observed state (scheme order), then longer sequences first, then
    by the states that follow; ``"from_start"``: by the whole sequence of states, compared position by
    position from the first (TraMineR's ``sortv="from.start"``; a sequence that ends first comes first).
    Ties keep the panel's person order.
    """
    if sort not in SORT_RULES:
        raise ValueError(f"sort must be one of {SORT_RULES}, got {sort!r}")
    offsets = panel.person_offsets()
    lengths = np.diff(offsets)
    n_persons = len(lengths)
    width = int(lengths.max()) if n_persons else 0
    # states from the first position, -1 after a sequence ends (sorting before every state)
    grid = np.full((n_persons, width), -1, dtype=np.int64)
    person_of_row = np.repeat(np.arange(n_persons), lengths)
    grid[person_of_row, panel.positions()] = panel.state_index()
    keys: list[np.ndarray] = [grid[:, j] for j in range(width)]
    if sort == "first_state":
        keys = [grid[:, 0], -lengths, *keys[1:]] if width else []
    if not keys:
        return np.arange(n_persons)
    return np.lexsort(keys[::-1])


@dataclass(frozen=True)
class IndexPlotData:
    """What a sequence index plot draws: one row per person, one column per time point.

    Attributes
    ----------
    states : numpy.ndarray
        ``(persons, time points)`` state indices into ``labels``, ``-1`` where the person is not observed;
        rows in plot order (:func:`index_order`).
    time : numpy.ndarray
        The time points of the columns.
    heights : numpy.ndarray
        Row heights: the persons' weights (:func:`person_weights`), or ones.
    persons : numpy.ndarray
        The person keys of the rows.
    labels : tuple of str
        The states.
    axis : str
        The time axis.
    time_unit : str
        The panel's time unit.
    """

    states: np.ndarray
    time: np.ndarray
    heights: np.ndarray
    persons: np.ndarray
    labels: tuple[str, ...]
    axis: str
    time_unit: str = "year"


def index_plot_data(
    panel: CareerPanel, by: TimeAxis = "period", sort: SortRule = "first_state", weights: WeightsLike = None
) -> IndexPlotData:
    """The persons' sequences on a common time axis, sorted for an index plot (rows without a time point left out).

    Raises
    ------
    ValueError
        For ``by="age"`` on a monthly panel (a person has twelve months at each age).
    """
    if by == "age" and panel.time_unit != "year":
        raise ValueError(f"panel {panel.name!r} is monthly: draw its index plot by='period' or by='position'")
    time = time_points(panel, by)
    known = ~np.isnan(time)
    labels = np.sort(np.unique(time[known])).astype(np.int64)
    person_of_row = np.repeat(np.arange(panel.n_persons), np.diff(panel.person_offsets()))
    grid = np.full((panel.n_persons, len(labels)), -1, dtype=np.int64)
    column = np.searchsorted(labels, time[known].astype(np.int64))
    grid[person_of_row[known], column] = panel.state_index()[known]
    order = index_order(panel, sort)
    return IndexPlotData(
        states=grid[order],
        time=labels,
        heights=person_weights(panel, weights)[order],
        persons=panel.persons[order],
        labels=tuple(panel.states),
        axis=by,
        time_unit=panel.time_unit,
    )


def display_level(panel: CareerPanel, max_states: int = MAX_DISPLAY_STATES) -> str | None:
    """The grouping level a figure of ``panel`` should draw: ``None`` when its states are few enough.

    Of the scheme's grouping levels (``major_group`` for occ1990dd), the finest one with at most
    ``max_states`` groups; ``None`` if the panel has at most ``max_states`` states or no level fits.
    """
    if len(panel.states) <= max_states:
        return None
    scheme = panel.scheme
    fitting = []
    for level in scheme.groups:
        try:
            n_groups = len(scheme.coarsen(level).states)
        except ValueError:  # a level that leaves some codes without a group cannot recode the panel
            continue
        if n_groups <= max_states:
            fitting.append((n_groups, level))
    return max(fitting)[1] if fitting else None


def wide_states(panel: CareerPanel) -> pd.DataFrame:
    """One row per person, one column per period: the state observed (missing where not observed)."""
    wide = panel.data.pivot(index=PERSON, columns=YEAR, values=OCC)
    wide = wide.reindex(index=panel.persons)
    wide.columns = wide.columns.astype(int)
    return wide
