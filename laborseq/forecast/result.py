"""The result of a forecast: mean predicted distributions and sampled paths, with what is computed from them.

A forecast engine conditions on each person's history up to an ``origin`` year
and returns a :class:`ForecastResult`: for every person and forecast year, p̄,
the mean over Monte Carlo samples of the model's predicted distribution given
each sample's simulated history (exact marginals for ``method="exact"``), and
the sampled paths themselves. This module holds the validated container and its
long tables (:meth:`~ForecastResult.paths_frame`, :meth:`~ForecastResult.marginals`);
its methods delegate the projected shares to :mod:`laborseq.forecast.shares`, the
observed shares and the CAREER forecasting score (:meth:`~ForecastResult.score`,
returning a :class:`~laborseq.forecast.scoring.ForecastScore`) to
:mod:`laborseq.forecast.scoring`, saving and loading to
:mod:`laborseq.forecast.persistence` and fan charts to :mod:`laborseq.forecast.plots`
(imported only when a chart is drawn, so that importing this module does not
import matplotlib).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq._util.random import RNGLike
from laborseq.forecast.persistence import load_forecast_fields, save_forecast, small_int
from laborseq.forecast.scoring import ForecastScore, observed_shares, score_forecast
from laborseq.forecast.shares import origin_shares, projected_shares
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import PERSON, YEAR, CareerPanel
from laborseq.panel.periods import PERIODS_PER_YEAR, check_time_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

METHODS = ("simulate", "exact")
"""Forecast methods: Monte Carlo simulation of paths, or exact marginals."""

_SUM_TOL = 1e-3


@dataclass(eq=False, repr=False)
class ForecastResult:
    """What a forecast produces, and everything computed from it.

    Parameters
    ----------
    classes : tuple of str
        State labels, ``K`` of them, in model column order (``model.classes_``;
        must equal ``scheme.states``).
    persons : numpy.ndarray
        Person keys (int or str), shape ``(P,)``, unique, in panel order.
    years : numpy.ndarray
        Forecast calendar years, shape ``(H,)``, strictly increasing, all after ``origin``.
    origin : int
        Last calendar year of the history the forecast conditions on.
    last_state : numpy.ndarray
        Index into ``classes`` of each person's last observed state at or before
        ``origin``, shape ``(P,)``.
    last_year : numpy.ndarray
        Year of that observation, shape ``(P,)``.
    probabilities : numpy.ndarray
        p̄, shape ``(P, H, K)``: for person ``p`` and year ``years[h]``, the mean
        over samples of the model's predicted distribution given each sample's
        simulated history (the exact marginal for ``method="exact"``). Rows sum to one.
    paths : numpy.ndarray or None
        Sampled states (indices into ``classes``), integer, shape ``(P, S, H)``;
        ``None`` for ``method="exact"``.
    groups : pandas.DataFrame
        One row per person (index = person keys, reordered to ``persons``):
        covariates at the origin, used by ``shares(by=...)``. ``None`` is read as
        a frame without columns.
    scheme : OccupationScheme
        The model's scheme (status tokens, groups for coarsening).
    model : str
        Model name for tables and plots.
    method : {"simulate", "exact"}
        How ``probabilities`` were obtained.
    covariates : str
        Covariate policy used for future years (recorded, not interpreted).
    seed : int or None
        Seed of the simulation.
    time_unit : {"year", "month"}
        What ``origin`` and ``years`` count (the panel's :attr:`~laborseq.panel.CareerPanel.time_unit`).

    Raises
    ------
    ValueError
        When a field has the wrong shape, dtype or values; the message names the field.
    """

    classes: tuple[str, ...]
    persons: np.ndarray
    years: np.ndarray
    origin: int
    last_state: np.ndarray
    last_year: np.ndarray
    probabilities: np.ndarray
    paths: np.ndarray | None
    groups: pd.DataFrame
    scheme: OccupationScheme
    model: str = ""
    method: str = "simulate"
    covariates: str = "hold"
    seed: int | None = None
    time_unit: str = "year"

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        self.classes = tuple(str(c) for c in self.classes)
        k = len(self.classes)
        if k == 0:
            raise ValueError("ForecastResult.classes: no states")
        if len(set(self.classes)) != k:
            raise ValueError("ForecastResult.classes: a state is listed twice")
        if not isinstance(self.scheme, OccupationScheme):
            raise ValueError(f"ForecastResult.scheme: expected an OccupationScheme, got {type(self.scheme).__name__}")
        if self.classes != tuple(self.scheme.states):
            raise ValueError(
                f"ForecastResult.classes ({k} states) differ from the states of scheme "
                f"{self.scheme.name!r} ({self.scheme.n_states} states); they must be equal and in the same order"
            )
        if self.method not in METHODS:
            raise ValueError(f"ForecastResult.method must be one of {METHODS}, got {self.method!r}")
        if not isinstance(self.origin, int | np.integer) or isinstance(self.origin, bool):
            raise ValueError(f"ForecastResult.origin must be an int year, got {self.origin!r}")
        self.origin = int(self.origin)
        if self.seed is not None:
            if not isinstance(self.seed, int | np.integer) or isinstance(self.seed, bool):
                raise ValueError(f"ForecastResult.seed must be an int or None, got {self.seed!r}")
            self.seed = int(self.seed)
        self.model = str(self.model)
        self.covariates = str(self.covariates)

        self.persons = _person_keys(self.persons)
        p = len(self.persons)
        person_index = pd.Index(self.persons)
        if not person_index.is_unique:
            dup = person_index[person_index.duplicated()].unique()
            raise ValueError(f"ForecastResult.persons: duplicated person keys, e.g. {list(dup[:5])}")

        self.years = _int_array(self.years, "years", ndim=1)
        h = len(self.years)
        if h == 0:
            raise ValueError("ForecastResult.years: no forecast years")
        if (np.diff(self.years) <= 0).any():
            raise ValueError(f"ForecastResult.years must be strictly increasing, got {self.years.tolist()}")
        if self.years[0] <= self.origin:
            raise ValueError(f"ForecastResult.years must all be after origin {self.origin}, got {self.years.tolist()}")
        per_year = PERIODS_PER_YEAR[check_time_unit(self.time_unit)]
        if self.origin < 1000 * per_year or self.years[-1] >= 3001 * per_year:
            raise ValueError(f"ForecastResult.origin and years must be {self.time_unit} periods of the years 1000-3000")

        self.last_state = _int_array(self.last_state, "last_state", shape=(p,))
        if p and (self.last_state.min() < 0 or self.last_state.max() >= k):
            raise ValueError(f"ForecastResult.last_state: state indices must lie in [0, {k}) (K = len(classes))")
        self.last_year = _int_array(self.last_year, "last_year", shape=(p,))
        if p and self.last_year.max() > self.origin:
            raise ValueError(f"ForecastResult.last_year: observations after the origin {self.origin}")

        probs = np.asarray(self.probabilities)
        if not np.issubdtype(probs.dtype, np.floating):
            if not np.issubdtype(probs.dtype, np.number) or np.issubdtype(probs.dtype, np.complexfloating):
                raise ValueError(f"ForecastResult.probabilities must be floating point, got dtype {probs.dtype}")
            probs = probs.astype(np.float64)
        if probs.shape != (p, h, k):
            raise ValueError(f"ForecastResult.probabilities must have shape (P, H, K) = {(p, h, k)}, got {probs.shape}")
        if probs.size:
            if not np.isfinite(probs).all() or probs.min() < 0:
                raise ValueError("ForecastResult.probabilities must be finite and non-negative")
            sums = probs.sum(axis=-1, dtype=np.float64)
            worst = float(np.abs(sums - 1.0).max())
            if worst > _SUM_TOL:
                raise ValueError(
                    f"ForecastResult.probabilities: distributions must sum to 1 (worst sum is off by {worst:.3g})"
                )
        self.probabilities = probs

        if self.paths is not None:
            paths = np.asarray(self.paths)
            if not np.issubdtype(paths.dtype, np.integer):
                raise ValueError(f"ForecastResult.paths must be an integer array, got dtype {paths.dtype}")
            if paths.ndim != 3 or paths.shape[0] != p or paths.shape[2] != h:
                raise ValueError(f"ForecastResult.paths must have shape (P, S, H) = ({p}, S, {h}), got {paths.shape}")
            if paths.shape[1] == 0:
                raise ValueError("ForecastResult.paths: no samples (S = 0); pass None instead")
            if paths.size and (paths.min() < 0 or paths.max() >= k):
                raise ValueError(f"ForecastResult.paths: state indices must lie in [0, {k}) (K = len(classes))")
            self.paths = paths

        self.groups = _align_groups(self.groups, person_index)

    # ------------------------------------------------------------------ properties
    @property
    def n_persons(self) -> int:
        """Number of persons ``P``."""
        return len(self.persons)

    @property
    def n_samples(self) -> int:
        """Number of sampled paths per person ``S`` (0 without paths)."""
        return 0 if self.paths is None else int(self.paths.shape[1])

    @property
    def horizons(self) -> np.ndarray:
        """Years after the origin of each forecast year (``years - origin``)."""
        return self.years - self.origin

    def __repr__(self) -> str:
        span = f"{self.years[0]}" if len(self.years) == 1 else f"{self.years[0]}-{self.years[-1]}"
        return (
            f"ForecastResult(model={self.model!r}, method={self.method!r}, persons={self.n_persons:,}, "
            f"samples={self.n_samples:,}, origin={self.origin}, years={span}, states={len(self.classes)}, "
            f"scheme={self.scheme.name!r})"
        )

    # ------------------------------------------------------------------ long tables
    def paths_frame(self) -> pd.DataFrame:
        """The sampled paths as a long table.

        Returns
        -------
        pandas.DataFrame
            One row per person, sample and forecast year (in that order):
            ``person_id`` (int64 keys, or a categorical over :attr:`persons` for
            string keys, to stay small), ``sample`` (int16, int32 above 32,767 samples), ``year`` (int16) and
            ``state`` (categorical over :attr:`classes`).

        Raises
        ------
        ValueError
            When the forecast has no paths (``method="exact"``).
        """
        paths = self._require_paths("paths_frame")
        p, s, h = paths.shape
        person = np.repeat(np.arange(p, dtype=np.int32), s * h)
        return pd.DataFrame(
            {
                PERSON: self._person_column(person),
                "sample": np.tile(np.repeat(np.arange(s, dtype=small_int(s)), h), p),
                YEAR: np.tile(self.years.astype(np.int16), p * s),
                "state": pd.Categorical.from_codes(paths.reshape(-1), categories=list(self.classes)),
            }
        )

    def marginals(self, wide: bool = True) -> pd.DataFrame:
        """p̄ of every person and forecast year.

        Parameters
        ----------
        wide : bool
            ``True``: index ``(person_id, year)``, one column per class.
            ``False``: long table ``person_id, year, state, probability``, one row
            per person, year and class.
        """
        p, h, k = self.probabilities.shape
        if wide:
            index = pd.MultiIndex.from_arrays(
                [np.repeat(self.persons, h), np.tile(self.years.astype(np.int16), p)], names=[PERSON, YEAR]
            )
            columns = pd.Index(list(self.classes), name="state")
            return pd.DataFrame(self.probabilities.reshape(p * h, k), index=index, columns=columns)
        person = np.repeat(np.arange(p, dtype=np.int32), h * k)
        return pd.DataFrame(
            {
                PERSON: self._person_column(person),
                YEAR: np.tile(np.repeat(self.years.astype(np.int16), k), p),
                "state": pd.Categorical.from_codes(np.tile(np.arange(k), p * h), categories=list(self.classes)),
                "probability": self.probabilities.reshape(-1),
            }
        )

    # ------------------------------------------------------------------ shares
    def shares(self, by: str | None = None, level: float = 0.9, coarsen: str | None = None) -> pd.DataFrame:
        """Projected distribution of states in each forecast year.

        Parameters
        ----------
        by : str, optional
            A column of :attr:`groups`: shares within each of its values
            (persons with a missing value are left out).
        level : float
            Coverage of the simulation interval.
        coarsen : str, optional
            A grouping level of the scheme (e.g. ``"major_group"``): states are
            aggregated to their groups first (status tokens stay themselves).

        Returns
        -------
        pandas.DataFrame
            Columns ``[by,] year, state, share, low, high``, one row per group,
            year and state (all states, zeros included). ``share`` is the mean
            over persons of p̄, the expected share. ``low`` and ``high`` are the
            ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles (numpy's linear
            interpolation) over samples ``s`` of the share of persons whose
            sampled state in sample ``s`` is that state; NaN without paths.

        Notes
        -----
        The interval describes the Monte Carlo spread of the realised share in
        a population of this size (it narrows with more persons, not with more
        samples); it does not include uncertainty about the model's parameters.
        """
        return projected_shares(self, by, level, coarsen)

    def origin_shares(self, by: str | None = None, coarsen: str | None = None) -> pd.DataFrame:
        """Shares of the persons' last observed states (at or before the origin).

        Returns
        -------
        pandas.DataFrame
            Columns ``[by,] year, state, share, n`` with ``year`` = :attr:`origin`:
            the starting point of the projection (persons last observed before
            the origin count with the state they were last seen in).
        """
        return origin_shares(self, by, coarsen)

    def observed_shares(self, observed: CareerPanel, by: str | None = None, coarsen: str | None = None) -> pd.DataFrame:
        """Observed distribution of states in the forecast years, for the forecast persons.

        Parameters
        ----------
        observed : CareerPanel
            A panel on the forecast's scheme (e.g. the ``future`` part of
            :meth:`CareerPanel.split_at_year`); only its rows of forecast persons
            in forecast years are used.
        by, coarsen
            As in :meth:`shares` (groups come from :attr:`groups`, so the same
            persons fall in the same group as in the projection).

        Returns
        -------
        pandas.DataFrame
            Columns ``[by,] year, state, share, n``: the share of the persons
            observed in that year (and group) who are in that state, and ``n``
            the number of those persons (``share`` is NaN where ``n`` is 0).
        """
        return observed_shares(self, observed, by, coarsen)

    # ------------------------------------------------------------------ scoring
    def score(
        self,
        observed: CareerPanel,
        *,
        complete_only: bool = True,
        weighted: bool = True,
        n_boot: int = 0,
        level: float = 0.95,
        rng: RNGLike = 0,
    ) -> ForecastScore:
        """Score the forecast against the states the forecast persons were later observed in.

        Parameters
        ----------
        observed : CareerPanel
            A panel on the forecast's scheme. Its rows of forecast persons in
            forecast years are scored (all of them, whatever their target flag);
            other rows are ignored and counted in ``n_rows_ignored``.
        complete_only : bool
            Keep only persons observed in the last forecast year, as the CAREER
            evaluation keeps only persons "observed through the end" of the data
            (so that every horizon is scored on a comparable population that has
            not dropped out). Their rows in earlier forecast years are scored
            even when some of those years are missing.
        weighted : bool
            Weight every scored person-year by its survey weight in ``observed`` (when it has weights).
        n_boot : int
            Person-bootstrap draws of the intervals of the perplexities (per horizon and pooled);
            0: no intervals.
        level : float
            Coverage of the intervals.
        rng : int or numpy.random.Generator
            Seed of the bootstrap.

        Returns
        -------
        ForecastScore

        Notes
        -----
        Each scored person-year contributes ``-log p̄(observed state)``;
        perplexity is ``exp`` of the mean over person-years (a micro-average,
        per horizon and pooled). A zero p̄ on an observed state makes the
        perplexity infinite, with a warning. Binary events: ``"moves"`` (the
        observed state differs from the person's last state before the origin;
        predicted probability ``1 - p̄[last_state]``) and ``"not_employed"``
        (the observed state is ``unemployed`` or ``out_of_labor_force``;
        predicted probability the sum of p̄ over those, scored only when the
        classes contain at least one of them). Events are scored with the binary
        perplexity (probabilities clipped to ``[1e-12, 1 - 1e-12]``) and the
        exact ROC AUC (NaN when the event always or never happens).
        """
        return score_forecast(
            self, observed, complete_only=complete_only, weighted=weighted, n_boot=n_boot, level=level, rng=rng
        )

    # ------------------------------------------------------------------ plotting
    def plot(
        self,
        observed: CareerPanel | None = None,
        *,
        states: Sequence[str] | None = None,
        top: int = 6,
        by: str | None = None,
        coarsen: str | None = None,
        level: float = 0.9,
        ax: Axes | None = None,
    ) -> Figure:
        """Fan chart of projected shares (see :func:`laborseq.forecast.plots.fan_chart`)."""
        # imported here, not at the top: importing this module must not import matplotlib
        from laborseq.forecast.plots import fan_chart  # noqa: PLC0415

        return fan_chart(self, observed, states=states, top=top, by=by, coarsen=coarsen, level=level, ax=ax)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to a directory, atomically; nothing is pickled.

        The directory holds ``forecast.json`` (classes, persons, years, origin,
        model, method, covariates, seed, scheme), ``probabilities.npz`` (p̄,
        ``last_state``, ``last_year``; read with ``allow_pickle=False``),
        ``groups.parquet`` and, when there are paths, ``paths.parquet``: the long
        paths table with compact columns ``person_index`` (int32 position in
        ``persons``), ``sample``, ``year`` and ``state`` (int16 where they fit),
        zstd-compressed.
        """
        return save_forecast(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ForecastResult:
        """Load a forecast written by :meth:`save` (no pickles are read)."""
        return cls(**load_forecast_fields(path))

    # ------------------------------------------------------------------ internals
    def _require_paths(self, what: str) -> np.ndarray:
        if self.paths is None:
            raise ValueError(f"{what}: this forecast has no sampled paths (method={self.method!r})")
        return self.paths

    def _person_column(self, positions: np.ndarray) -> np.ndarray | pd.Categorical:
        """Person keys at ``positions``: int64 values, or a categorical over :attr:`persons` for string keys."""
        if self.persons.dtype.kind in "iu":
            return self.persons[positions]
        return pd.Categorical.from_codes(positions, categories=pd.Index(self.persons, dtype=object))


# ---------------------------------------------------------------------- validation helpers
def _person_keys(values: Any) -> np.ndarray:
    """Person keys as an int64 array or an object array of str."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"ForecastResult.persons must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind in "US":
        return arr.astype(str).astype(object)
    if arr.dtype.kind == "O" and (len(arr) == 0 or pd.api.types.infer_dtype(arr, skipna=False) == "string"):
        return arr
    if arr.dtype.kind == "O" and pd.api.types.infer_dtype(arr, skipna=False) == "integer":
        return arr.astype(np.int64)
    raise ValueError(f"ForecastResult.persons must hold int or str keys, got dtype {arr.dtype}")


def _int_array(values: Any, name: str, *, ndim: int | None = None, shape: tuple[int, ...] | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise ValueError(f"ForecastResult.{name} must be an integer array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"ForecastResult.{name} must be {ndim}-D, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"ForecastResult.{name} must have shape {shape} (one per person), got {arr.shape}")
    return arr.astype(np.int64, copy=False)


def _align_groups(groups: pd.DataFrame | None, persons: pd.Index) -> pd.DataFrame:
    """``groups`` with one row per person, reordered to ``persons``."""
    if groups is None:
        return pd.DataFrame(index=persons.rename(PERSON))
    if not isinstance(groups, pd.DataFrame):
        raise ValueError(f"ForecastResult.groups must be a DataFrame indexed by person, got {type(groups).__name__}")
    if not groups.index.is_unique:
        raise ValueError("ForecastResult.groups: its index (person keys) has duplicates; one row per person")
    if len(groups) != len(persons):
        raise ValueError(f"ForecastResult.groups must have one row per person ({len(persons)}), got {len(groups)}")
    position = groups.index.get_indexer(persons)
    if (position < 0).any():
        missing = list(persons[position < 0][:5])
        raise ValueError(f"ForecastResult.groups: no row for person(s) {missing}; its index must be the person keys")
    out = groups.iloc[position]
    out.index = persons.rename(PERSON)
    return out
