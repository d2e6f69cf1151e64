"""The result of a forecast: mean predicted distributions, sampled paths, shares and scores.

A forecast engine conditions on each person's history up to an ``origin`` year
and returns a :class:`ForecastResult`: for every person and forecast year, p̄,
the mean over Monte Carlo samples of the model's predicted distribution given
each sample's simulated history (exact marginals for ``method="exact"``), and
the sampled paths themselves. From it this module computes long tables
(:meth:`~ForecastResult.paths_frame`, :meth:`~ForecastResult.marginals`),
projected state shares with simulation intervals (:meth:`~ForecastResult.shares`),
the matching observed shares, and the CAREER forecasting score
(:meth:`~ForecastResult.score`, returning a :class:`ForecastScore`).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq._util.io import atomic_directory, write_json_atomic
from laborseq._util.json import to_jsonable
from laborseq._version import __version__
from laborseq.evaluation.metrics import EVENT_METRICS, NOT_EMPLOYED_TOKENS, event_summary, perplexity
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure

METHODS = ("simulate", "exact")
"""Forecast methods: Monte Carlo simulation of paths, or exact marginals."""

_FORMAT_VERSION = 1
_JSON = "forecast.json"
_PATHS = "paths.parquet"
_ARRAYS = "probabilities.npz"
_GROUPS = "groups.parquet"
_PERSON_INDEX = "person_index"
_SUM_TOL = 1e-3


@dataclass(frozen=True)
class ForecastScore:
    """Score of a forecast against observed states (see :meth:`ForecastResult.score`).

    Attributes
    ----------
    by_horizon : pandas.DataFrame
        One row per forecast year: ``horizon`` (years after the origin),
        ``year``, ``n`` (person-years scored), ``perplexity`` (``exp`` of the mean
        ``-log p̄(observed state)``) and, per binary event, ``{event}_rate``
        (observed share of person-years with the event), ``{event}_predicted``
        (mean predicted probability), ``{event}_perplexity`` (binary perplexity)
        and ``{event}_auc`` (ROC AUC; NaN when the event always or never happened).
    overall : dict
        The same metrics pooled over all scored person-years, plus ``n_persons``
        and ``n_person_years``.
    events : tuple of str
        The binary events scored (``"moves"``, and ``"not_employed"`` when the
        classes contain ``unemployed`` or ``out_of_labor_force``).
    model, origin, complete_only
        What was scored and how.
    n_rows_ignored : int
        Rows of the observed panel outside the forecast persons and years.
    n_persons_incomplete : int
        Forecast persons observed in some forecast year but not in the last one,
        dropped because ``complete_only=True`` (0 otherwise).
    """

    by_horizon: pd.DataFrame
    overall: dict[str, float]
    events: tuple[str, ...]
    model: str
    origin: int
    complete_only: bool
    n_rows_ignored: int
    n_persons_incomplete: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (non-finite values stay floats, as ``json.dumps`` writes them)."""
        return {
            "model": self.model,
            "origin": self.origin,
            "complete_only": self.complete_only,
            "events": list(self.events),
            "n_rows_ignored": self.n_rows_ignored,
            "n_persons_incomplete": self.n_persons_incomplete,
            "overall": to_jsonable(self.overall),
            "by_horizon": to_jsonable(self.by_horizon.to_dict("records")),
        }

    def __str__(self) -> str:
        o = self.overall
        lines = [
            f"Forecast score of {self.model or 'forecast'} from origin {self.origin} "
            f"({o['n_persons']:,} persons, {o['n_person_years']:,} person-years"
            f"{', complete persons only' if self.complete_only else ''})",
            f"  perplexity {o['perplexity']:.4f}",
        ]
        for event in self.events:
            lines.append(
                f"  {event:<13} rate {o[f'{event}_rate']:.4f}  predicted {o[f'{event}_predicted']:.4f}  "
                f"binary perplexity {o[f'{event}_perplexity']:.4f}  AUC {o[f'{event}_auc']:.4f}"
            )
        lines.append(self.by_horizon.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        return "\n".join(lines)


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
        self._person_index = pd.Index(self.persons)  # not a field: derived lookup of person keys
        if not self._person_index.is_unique:
            dup = self._person_index[self._person_index.duplicated()].unique()
            raise ValueError(f"ForecastResult.persons: duplicated person keys, e.g. {list(dup[:5])}")

        self.years = _int_array(self.years, "years", ndim=1)
        h = len(self.years)
        if h == 0:
            raise ValueError("ForecastResult.years: no forecast years")
        if (np.diff(self.years) <= 0).any():
            raise ValueError(f"ForecastResult.years must be strictly increasing, got {self.years.tolist()}")
        if self.years[0] <= self.origin:
            raise ValueError(f"ForecastResult.years must all be after origin {self.origin}, got {self.years.tolist()}")
        if self.origin < 1000 or self.years[-1] > 3000:
            raise ValueError("ForecastResult.origin and years must be calendar years in 1000-3000")

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

        self.groups = _align_groups(self.groups, self._person_index)

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
                "sample": np.tile(np.repeat(np.arange(s, dtype=_small_int(s)), h), p),
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
        if not 0 < level < 1:
            raise ValueError(f"shares: level must lie strictly between 0 and 1, got {level}")
        labels, col_map = self._state_map(coarsen)
        values, codes = self._group_codes(by)
        b, g, (p, h, _) = len(values), len(labels), self.probabilities.shape
        member = np.zeros((p, b))
        member[codes >= 0, codes[codes >= 0]] = 1.0
        n = member.sum(axis=0)
        probs = self._coarse_probabilities(col_map, g)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (member.T @ probs.reshape(p, h * g)).reshape(b, h, g) / n[:, None, None]
        low = np.full((b, h, g), np.nan)
        high = np.full((b, h, g), np.nan)
        if self.paths is not None:
            s = self.n_samples
            keep = codes >= 0
            alpha = (1 - level) / 2
            base = (codes[keep, None].astype(np.int64) * s + np.arange(s)[None, :]) * g
            for j in range(h):
                flat = base + col_map[self.paths[keep, :, j]]
                counts = np.bincount(flat.reshape(-1), minlength=b * s * g).reshape(b, s, g)
                with np.errstate(invalid="ignore", divide="ignore"):
                    low[:, j], high[:, j] = np.quantile(counts / n[:, None, None], [alpha, 1 - alpha], axis=1)
        return self._long_table(by, values, labels, {"share": share, "low": low, "high": high})

    def origin_shares(self, by: str | None = None, coarsen: str | None = None) -> pd.DataFrame:
        """Shares of the persons' last observed states (at or before the origin).

        Returns
        -------
        pandas.DataFrame
            Columns ``[by,] year, state, share, n`` with ``year`` = :attr:`origin`:
            the starting point of the projection (persons last observed before
            the origin count with the state they were last seen in).
        """
        labels, col_map = self._state_map(coarsen)
        values, codes = self._group_codes(by)
        keep = codes >= 0
        b, g = len(values), len(labels)
        counts = np.bincount(codes[keep] * g + col_map[self.last_state[keep]], minlength=b * g).reshape(b, 1, g)
        n = np.bincount(codes[keep], minlength=b).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = counts / n[:, None, None]
        n_col = np.broadcast_to(n[:, None, None], share.shape)
        return self._long_table(by, values, labels, {"share": share, "n": n_col}, years=np.array([self.origin]))

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
        rows = self._observed_rows(observed)
        labels, col_map = self._state_map(coarsen)
        values, codes = self._group_codes(by)
        b, g, h = len(values), len(labels), len(self.years)
        bc = codes[rows.person]
        keep = bc >= 0
        cell = bc[keep].astype(np.int64) * h + rows.year[keep]
        counts = np.bincount(cell * g + col_map[rows.state[keep]], minlength=b * h * g).reshape(b, h, g)
        n = np.bincount(cell, minlength=b * h).reshape(b, h, 1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = counts / n
        return self._long_table(by, values, labels, {"share": share, "n": np.broadcast_to(n, share.shape)})

    # ------------------------------------------------------------------ scoring
    def score(self, observed: CareerPanel, *, complete_only: bool = True) -> ForecastScore:
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
        rows = self._observed_rows(observed)
        n_incomplete = 0
        if complete_only:
            last = len(self.years) - 1
            complete = np.zeros(self.n_persons, dtype=bool)
            complete[rows.person[rows.year == last]] = True
            seen = np.zeros(self.n_persons, dtype=bool)
            seen[rows.person] = True
            n_incomplete = int((seen & ~complete).sum())
            rows = rows.subset(complete[rows.person])
        if len(rows.person) == 0:
            raise ValueError(
                "score: no observed rows of the forecast persons in the forecast years"
                + (" among persons observed in the last forecast year" if complete_only else "")
            )
        p_true = self.probabilities[rows.person, rows.year, rows.state].astype(np.float64)
        zero = int((p_true <= 0).sum())
        if zero:
            warnings.warn(
                f"forecast{' ' + self.model if self.model else ''} gives zero probability to {zero} observed "
                "person-years; its perplexity is infinite",
                stacklevel=2,
            )
        with np.errstate(divide="ignore"):
            log_p = np.log(p_true)
        events = self._events(rows)

        records = []
        for j, year in enumerate(self.years):
            at = rows.year == j
            record: dict[str, Any] = {
                "horizon": int(year - self.origin),
                YEAR: int(year),
                "n": int(at.sum()),
                "perplexity": perplexity(log_p[at]),
            }
            for name, (y, q) in events.items():
                record.update({f"{name}_{m}": v for m, v in event_summary(y[at], q[at]).items()})
            records.append(record)
        columns = ["horizon", YEAR, "n", "perplexity"] + [f"{e}_{m}" for e in events for m in EVENT_METRICS]
        by_horizon = pd.DataFrame.from_records(records, columns=columns)

        overall: dict[str, Any] = {
            "n_persons": len(np.unique(rows.person)),
            "n_person_years": len(rows.person),
            "perplexity": perplexity(log_p),
        }
        for name, (y, q) in events.items():
            overall.update({f"{name}_{m}": v for m, v in event_summary(y, q).items()})
        return ForecastScore(
            by_horizon=by_horizon,
            overall=overall,
            events=tuple(events),
            model=self.model,
            origin=self.origin,
            complete_only=complete_only,
            n_rows_ignored=rows.n_ignored,
            n_persons_incomplete=n_incomplete,
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
        ax: matplotlib.axes.Axes | None = None,
    ) -> matplotlib.figure.Figure:
        """Fan chart of projected shares (see :func:`laborseq.forecast.plots.fan_chart`)."""
        from laborseq.forecast.plots import fan_chart

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
        config = {
            "format_version": _FORMAT_VERSION,
            "laborseq_version": __version__,
            "model": self.model,
            "method": self.method,
            "covariates": self.covariates,
            "seed": self.seed,
            "origin": self.origin,
            "years": [int(y) for y in self.years],
            "classes": list(self.classes),
            "persons": to_jsonable(self.persons.tolist()),
            "n_samples": self.n_samples,
            "scheme": self.scheme.to_dict(),
        }
        with atomic_directory(path) as tmp:
            write_json_atomic(tmp / _JSON, config)
            np.savez(
                tmp / _ARRAYS,
                probabilities=self.probabilities,
                last_state=self.last_state,
                last_year=self.last_year,
            )
            groups = self.groups.reset_index(drop=True)
            groups.insert(0, _PERSON_INDEX, np.arange(self.n_persons, dtype=np.int32))
            groups.to_parquet(tmp / _GROUPS, index=False)
            if self.paths is not None:
                pq.write_table(self._paths_table(), tmp / _PATHS, compression="zstd")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ForecastResult:
        """Load a forecast written by :meth:`save` (no pickles are read)."""
        path = Path(path)
        if not (path / _JSON).exists():
            raise FileNotFoundError(f"{path} is not a saved forecast (no {_JSON})")
        config = json.loads((path / _JSON).read_text())
        if config.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(f"{path}: written by a newer laborseq (format {config['format_version']})")
        with np.load(path / _ARRAYS, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        persons = np.asarray(config["persons"]) if config["persons"] else np.array([], dtype=np.int64)
        years = np.asarray(config["years"], dtype=np.int64)
        groups = pd.read_parquet(path / _GROUPS)
        order = groups.pop(_PERSON_INDEX).to_numpy()
        groups.index = pd.Index(persons[order], name=PERSON)
        paths = None
        if (path / _PATHS).exists():
            paths = _paths_from_table(pq.read_table(path / _PATHS), len(persons), config["n_samples"], years)
        return cls(
            classes=tuple(config["classes"]),
            persons=persons,
            years=years,
            origin=config["origin"],
            last_state=arrays["last_state"],
            last_year=arrays["last_year"],
            probabilities=arrays["probabilities"],
            paths=paths,
            groups=groups,
            scheme=OccupationScheme.from_dict(config["scheme"]),
            model=config["model"],
            method=config["method"],
            covariates=config["covariates"],
            seed=config["seed"],
        )

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

    def _state_map(self, coarsen: str | None) -> tuple[list[str], np.ndarray]:
        """Labels of the (possibly coarsened) states and the label index of every class."""
        if coarsen is None:
            return list(self.classes), np.arange(len(self.classes))
        mapping = self.scheme.coarsen_map(coarsen)
        labels = list(self.scheme.coarsen(coarsen).states)
        position = {label: i for i, label in enumerate(labels)}
        return labels, np.array([position[mapping[c]] for c in self.classes], dtype=np.int64)

    def _coarse_probabilities(self, col_map: np.ndarray, g: int) -> np.ndarray:
        """p̄ summed over the classes of each coarse state, shape ``(P, H, G)``, float64."""
        probs = self.probabilities.astype(np.float64, copy=False)
        if g == len(self.classes) and (col_map == np.arange(g)).all():
            return probs
        onehot = np.zeros((len(self.classes), g))
        onehot[np.arange(len(self.classes)), col_map] = 1.0
        return probs @ onehot

    def _group_codes(self, by: str | None) -> tuple[list[Any], np.ndarray]:
        """Values of ``by`` (sorted) and each person's position among them (-1 when missing)."""
        if by is None:
            return [None], np.zeros(self.n_persons, dtype=np.int64)
        if by not in self.groups.columns:
            raise KeyError(f"by={by!r} is not a column of the forecast's groups; they are {list(self.groups.columns)}")
        codes, uniques = pd.factorize(self.groups[by], sort=True)
        return list(uniques), codes.astype(np.int64)

    def _long_table(
        self,
        by: str | None,
        values: list[Any],
        labels: list[str],
        columns: dict[str, np.ndarray],
        years: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """A ``(B, H, G)`` set of arrays as a long table ``[by,] year, state, <columns>``."""
        years = self.years if years is None else years
        b, h, g = len(values), len(years), len(labels)
        out: dict[str, Any] = {}
        if by is not None:
            group = pd.Series(values).take(np.repeat(np.arange(b), h * g)).reset_index(drop=True)
            if isinstance(self.groups[by].dtype, pd.CategoricalDtype):
                group = group.astype(self.groups[by].dtype)
            out[by] = group
        out[YEAR] = np.tile(np.repeat(np.asarray(years, dtype=np.int64), g), b)
        out["state"] = pd.Categorical.from_codes(np.tile(np.arange(g), b * h), categories=labels)
        for name, array in columns.items():
            out[name] = np.asarray(array, dtype=np.float64).reshape(-1)
        frame = pd.DataFrame(out)
        if "n" in frame:
            frame["n"] = frame["n"].astype(np.int64)
        return frame

    def _observed_rows(self, observed: CareerPanel) -> _Rows:
        """Rows of ``observed`` for forecast persons in forecast years, as indices."""
        if not isinstance(observed, CareerPanel):
            raise TypeError(f"expected a CareerPanel of observed careers, got {type(observed).__name__}")
        data = observed.data
        person = self._person_index.get_indexer(pd.Index(data[PERSON]))
        year = pd.Index(self.years).get_indexer(data[YEAR].to_numpy().astype(np.int64))
        keep = (person >= 0) & (year >= 0)
        occ = data[OCC]
        lookup = pd.Index(self.classes).get_indexer(pd.Index(occ.cat.categories.astype(str)))
        state = lookup[occ.cat.codes.to_numpy()[keep]]
        if (state < 0).any():
            bad = sorted(set(np.asarray(occ[keep])[state < 0].astype(str)))
            raise ValueError(
                f"observed panel has state(s) {bad[:10]} that are not among the forecast's classes "
                f"(scheme {self.scheme.name!r}); harmonize it to the forecast's scheme"
            )
        return _Rows(
            person=person[keep].astype(np.int64),
            year=year[keep].astype(np.int64),
            state=state.astype(np.int64),
            n_ignored=int((~keep).sum()),
        )

    def _events(self, rows: _Rows) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Observed indicator and predicted probability of every defined binary event, per scored row."""
        last = self.last_state[rows.person]
        p_last = self.probabilities[rows.person, rows.year, last].astype(np.float64)
        events = {"moves": (rows.state != last, 1.0 - p_last)}
        tokens = np.array([self.classes.index(t) for t in NOT_EMPLOYED_TOKENS if t in self.classes], dtype=np.int64)
        if len(tokens):
            q = self.probabilities[rows.person[:, None], rows.year[:, None], tokens[None, :]].sum(axis=1)
            events["not_employed"] = (np.isin(rows.state, tokens), q.astype(np.float64))
        return events

    def _paths_table(self) -> pa.Table:
        """The paths as a compact long Arrow table (person position, sample, year, state)."""
        p, s, h = self.paths.shape
        k = len(self.classes)
        return pa.table(
            {
                _PERSON_INDEX: np.repeat(np.arange(p, dtype=np.int32), s * h),
                "sample": np.tile(np.repeat(np.arange(s, dtype=_small_int(s)), h), p),
                YEAR: np.tile(self.years.astype(np.int16), p * s),
                "state": self.paths.reshape(-1).astype(_small_int(k), copy=False),
            }
        )


@dataclass(frozen=True)
class _Rows:
    """Scored observations as positions: person in ``persons``, year in ``years``, state in ``classes``."""

    person: np.ndarray
    year: np.ndarray
    state: np.ndarray
    n_ignored: int

    def subset(self, mask: np.ndarray) -> _Rows:
        return _Rows(self.person[mask], self.year[mask], self.state[mask], self.n_ignored)


# ---------------------------------------------------------------------- helpers
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


def _paths_from_table(table: pa.Table, p: int, s: int, years: np.ndarray) -> np.ndarray:
    """Rebuild the ``(P, S, H)`` paths array from the long table, whatever its row order."""
    h = len(years)
    if table.num_rows != p * s * h:
        raise ValueError(f"{_PATHS}: {table.num_rows} rows, expected P*S*H = {p}*{s}*{h}")
    person = table.column(_PERSON_INDEX).to_numpy().astype(np.int64)
    sample = table.column("sample").to_numpy().astype(np.int64)
    year = np.searchsorted(years, table.column(YEAR).to_numpy().astype(np.int64))
    state = table.column("state").to_numpy()
    paths = np.full(p * s * h, -1, dtype=state.dtype)
    paths[(person * s + sample) * h + year] = state
    if (paths < 0).any():
        raise ValueError(f"{_PATHS}: some person-sample-years are missing")
    return paths.reshape(p, s, h)


def _small_int(n: int) -> type[np.signedinteger[Any]]:
    """The smallest of int16 / int32 that holds ``0 .. n - 1``."""
    return np.int16 if n <= np.iinfo(np.int16).max else np.int32
