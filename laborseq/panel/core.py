"""The canonical career panel: one validated row per person-year.

:class:`CareerPanel` is the table every reader produces and every model consumes.
It holds a person key, the calendar year, the state (an occupation code of the
panel's :class:`~laborseq.occupations.scheme.OccupationScheme` or a status token),
optional covariates and an optional survey weight. It is validated on
construction (:mod:`laborseq.panel.validation`), kept sorted by person and year,
and saved to parquet with its scheme and metadata in the Arrow schema
(:mod:`laborseq.panel.parquet`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from laborseq._util.random import RNGLike, check_random_state
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel.columns import OCC, PERSON, TARGET, WEIGHT, YEAR
from laborseq.panel.descriptives import person_weights, wide_states
from laborseq.panel.lineage import Lineage
from laborseq.panel.parquet import FORMAT_VERSION, arrow_table, read_panel_table, write_table_atomic
from laborseq.panel.periods import check_time_unit, period_label
from laborseq.panel.validation import (
    PanelValidationError,
    check_columns,
    check_duplicates,
    clean_person,
    clean_target,
    clean_weight,
    clean_year,
    resolve_static,
    state_categorical,
)
from laborseq.panel.views import PanelDescription, SequenceArrays


class CareerPanel:
    """A longitudinal panel of careers: one row per person-year.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table with at least a person key, a year and a state column.
    person : str
        Name of the person column in ``data`` (renamed to ``person_id``).
    year : str
        Name of the period column (renamed to ``year``): calendar years, or months
        with ``time_unit="month"``.
    occ : str
        Name of the state column (renamed to ``occ``).
    covariates : sequence of str, optional
        Covariate columns to keep (e.g. ``education``, ``race``). Missing
        covariate values are allowed.
    static : sequence of str, optional
        Covariates that are constant within a person (validated). By default the
        covariates that are constant within every person are static.
    weight : str, optional
        Survey-weight column (renamed to ``weight``); values must be finite and
        non-negative.
    scheme : OccupationScheme, optional
        The state space. By default one is built from the observed states, with
        any of :data:`~laborseq.occupations.scheme.STATUS_TOKENS` treated as status tokens.
    name : str, optional
        A short name for reports.
    metadata : mapping, optional
        Free-form JSON-serializable metadata (source, lineage, ...).
    target : str, optional
        Boolean column marking the person-years to score; the others are context
        (history a model conditions on without scoring it). Default: all rows.
    time_unit : {"year", "month"}, default "year"
        What the ``year`` column counts: calendar years, or months as
        ``12 * year + month - 1`` (:func:`~laborseq.panel.periods.month_period`).

    Raises
    ------
    PanelValidationError
        On a missing column, a missing or non-integer year, a missing person key
        or state, a state not in the scheme, a duplicated person-year, a negative
        or missing weight, or a static covariate that varies within a person.
        The message names the column and the offending rows (index labels of
        ``data``).

    Notes
    -----
    Rows are sorted by person and year. Gaps (years in which a person is not
    observed) are kept as they are: no row is invented.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        person: str = PERSON,
        year: str = YEAR,
        occ: str = OCC,
        covariates: Sequence[str] | None = None,
        static: Sequence[str] | None = None,
        weight: str | None = None,
        scheme: OccupationScheme | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        target: str | None = None,
        time_unit: str = "year",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"CareerPanel expects a pandas DataFrame, got {type(data).__name__}")
        if not data.index.is_unique:
            data = data.reset_index(drop=True)
        covariates = list(covariates or [])
        required = [person, year, occ, *covariates] + [c for c in (weight, target) if c is not None]
        check_columns(data, required, covariates)

        frame = pd.DataFrame(
            {
                PERSON: clean_person(data[person], person),
                YEAR: clean_year(data[year], year, check_time_unit(time_unit)),
            },
            index=data.index,
        )
        frame[OCC], scheme = state_categorical(data[occ], occ, scheme, name)
        for cov in covariates:
            values = data[cov]
            is_text = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
            frame[cov] = values.astype("category") if is_text else values
        if weight is not None:
            frame[WEIGHT] = clean_weight(data[weight], weight)
        target_mask = np.ones(len(frame), dtype=bool) if target is None else clean_target(data[target], target)
        frame[TARGET] = target_mask

        frame = frame.sort_values([PERSON, YEAR], kind="stable")
        check_duplicates(frame, person, year)
        frame = frame.reset_index(drop=True)
        static_set = resolve_static(frame, covariates, static)

        self._data = frame.drop(columns=TARGET)
        self._target = frame[TARGET].to_numpy(dtype=bool)
        self._scheme = scheme
        self._covariates = tuple(covariates)
        self._static = tuple(c for c in covariates if c in static_set)
        self._has_weight = weight is not None
        self._time_unit = check_time_unit(time_unit)
        self.name = name
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._offsets: np.ndarray | None = None

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def _from_canonical(cls, panel: CareerPanel, frame: pd.DataFrame, target: np.ndarray) -> CareerPanel:
        """A new panel sharing ``panel``'s scheme and metadata over already-valid rows."""
        new = cls.__new__(cls)
        new._data = frame.reset_index(drop=True)
        new._target = np.asarray(target, dtype=bool).copy()
        new._scheme = panel._scheme
        new._covariates = panel._covariates
        new._static = panel._static
        new._has_weight = panel._has_weight
        new._time_unit = panel._time_unit
        new.name = panel.name
        new.metadata = dict(panel.metadata)
        new._offsets = None
        return new

    # ------------------------------------------------------------------ properties
    @property
    def data(self) -> pd.DataFrame:
        """The canonical table (a copy): ``person_id, year, occ``, covariates, ``weight``."""
        return self._data.copy()

    @property
    def scheme(self) -> OccupationScheme:
        """The panel's :class:`~laborseq.occupations.scheme.OccupationScheme`."""
        return self._scheme

    @property
    def states(self) -> tuple[str, ...]:
        """All states of the scheme, in model column order."""
        return self._scheme.states

    @property
    def covariates(self) -> tuple[str, ...]:
        """Covariate column names."""
        return self._covariates

    @property
    def static_covariates(self) -> tuple[str, ...]:
        """Covariates constant within each person."""
        return self._static

    @property
    def time_varying_covariates(self) -> tuple[str, ...]:
        """Covariates that may change from year to year."""
        return tuple(c for c in self._covariates if c not in self._static)

    @property
    def time_unit(self) -> str:
        """``"year"`` (periods are calendar years) or ``"month"`` (:mod:`laborseq.panel.periods`)."""
        return self._time_unit

    @property
    def has_weight(self) -> bool:
        """Whether the panel carries a survey-weight column."""
        return self._has_weight

    @property
    def weights(self) -> np.ndarray | None:
        """Survey weight of every row, or ``None``."""
        return self._data[WEIGHT].to_numpy(dtype=float) if self._has_weight else None

    @property
    def target_mask(self) -> np.ndarray:
        """Boolean mask over rows: which person-years are scored."""
        return self._target.copy()

    @property
    def lineage(self) -> Lineage | None:
        """What happened to the rows of the source, when a reader recorded it (see :mod:`laborseq.panel.lineage`)."""
        record = self.metadata.get("lineage")
        return None if record is None else Lineage.from_dict(record)

    @property
    def persons(self) -> np.ndarray:
        """Distinct person keys, sorted."""
        return self._data[PERSON].to_numpy()[self.person_offsets()[:-1]]

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return len(self.person_offsets()) - 1

    @property
    def n_targets(self) -> int:
        """Number of target person-years."""
        return int(self._target.sum())

    def person_year_index(self) -> pd.MultiIndex:
        """``(person, year)`` of every row, in row order (the index of per-row results such as representations)."""
        return pd.MultiIndex.from_arrays(
            [self._data[PERSON].to_numpy(), self._data[YEAR].to_numpy()], names=[PERSON, YEAR]
        )

    @property
    def years(self) -> np.ndarray:
        """Distinct calendar years, sorted."""
        return np.sort(self._data[YEAR].unique())

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return (
            f"CareerPanel(name={self.name!r}, persons={self.n_persons:,}, person_years={len(self):,}, "
            f"targets={self.n_targets:,}, scheme={self._scheme.name!r}, covariates={list(self._covariates)})"
        )

    # ------------------------------------------------------------------ views used by models
    def person_offsets(self) -> np.ndarray:
        """Where each person's rows start and end: the one source of person boundaries.

        Rows are sorted by person and year, so person ``i`` (the ``i``-th of
        :attr:`persons`) owns rows ``offsets[i]:offsets[i + 1]``. Hence
        ``offsets[:-1]`` are the first rows of the persons, ``offsets[1:] - 1``
        their last rows and ``numpy.diff(offsets)`` their numbers of rows.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(n_persons + 1,)``, starting at 0 and ending at
            ``len(self)``. It is computed once and cached, and is read-only:
            copy it before changing it.
        """
        if self._offsets is None:
            persons = self._data[PERSON].to_numpy()
            starts = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1]]) if len(persons) else np.zeros(0, int)
            offsets = np.r_[starts, len(persons)].astype(np.int64)
            offsets.flags.writeable = False
            self._offsets = offsets
        return self._offsets

    def state_index(self) -> np.ndarray:
        """State of every row as an index into :attr:`states` (int32)."""
        return self._data[OCC].cat.codes.to_numpy().astype(np.int32)

    def lagged_states(self, lag: int = 1) -> np.ndarray:
        """State index ``lag`` observations back within the person, ``-1`` where none.

        Lags count observed rows, not calendar years: with a gap, the previous
        observation is the last year the person was seen.
        """
        if lag < 1:
            raise ValueError(f"lag must be >= 1, got {lag}")
        states = self.state_index()
        out = np.full(len(states), -1, dtype=np.int32)
        if lag < len(states):
            same = self.positions()[lag:] >= lag  # the row ``lag`` back belongs to the same person
            out[lag:] = np.where(same, states[:-lag], -1)
        return out

    def positions(self) -> np.ndarray:
        """0-based position of every row within its person's sequence (int64)."""
        offsets = self.person_offsets()
        return np.arange(len(self), dtype=np.int64) - np.repeat(offsets[:-1], np.diff(offsets))

    def _history_columns(self) -> pd.DataFrame:
        """Per row: position, previous observed state and years since it."""
        years = self._data[YEAR].to_numpy().astype(np.int64)
        first = np.zeros(len(years), dtype=bool)
        first[self.person_offsets()[:-1]] = True
        prev = self.lagged_states(1)
        gap = np.empty(len(years), dtype=float)
        gap[0:1] = np.nan
        gap[1:] = years[1:] - years[:-1]
        gap[first] = np.nan
        return pd.DataFrame({"position": self.positions(), "prev_index": prev, "gap": gap, "is_first": first})

    def targets(self) -> pd.DataFrame:
        """The person-years every model scores, in a fixed order.

        Returns
        -------
        pandas.DataFrame
            One row per target: ``person_id``, ``year``, ``occ``, ``position``
            (0-based position in the person's observed sequence), ``prev_occ``
            (the previous observed state, missing for the first), ``gap`` (years
            since the previous observation) and ``is_first``. The index is the
            row number in :attr:`data`.
        """
        hist = self._history_columns()
        prev = pd.Categorical.from_codes(hist["prev_index"].to_numpy(), categories=list(self.states))
        out = pd.DataFrame(
            {
                PERSON: self._data[PERSON],
                YEAR: self._data[YEAR],
                OCC: self._data[OCC],
                "position": hist["position"],
                "prev_occ": prev,
                "gap": hist["gap"],
                "is_first": hist["is_first"],
            }
        )
        return out[self._target]

    def sequences(self) -> SequenceArrays:
        """The panel as flat per-person arrays (all rows, targets flagged)."""
        offsets = self.person_offsets().copy()
        return SequenceArrays(
            person_ids=self.persons,
            offsets=offsets,
            states=self.state_index(),
            years=self._data[YEAR].to_numpy(),
            target=self._target.copy(),
        )

    # ------------------------------------------------------------------ subsets and splits
    def person_range(self, start: int, stop: int) -> CareerPanel:
        """The panel of persons ``start`` to ``stop - 1`` in person order (a slice: no copy of the validation)."""
        offsets = self.person_offsets()
        first, last = int(offsets[start]), int(offsets[stop])
        return self._from_canonical(self, self._data.iloc[first:last], self._target[first:last])

    def select_persons(self, persons: Iterable[Any]) -> CareerPanel:
        """The sub-panel of the given persons (unknown keys are ignored)."""
        keep = self._data[PERSON].isin(list(persons)).to_numpy()
        return self._from_canonical(self, self._data[keep], self._target[keep])

    def sample_persons(self, n: int, rng: RNGLike = 0) -> CareerPanel:
        """A random sub-panel of ``n`` persons (all of them if ``n`` exceeds the count)."""
        gen = check_random_state(rng)
        ids = np.sort(self.persons)
        chosen = gen.choice(ids, size=min(n, len(ids)), replace=False)
        return self.select_persons(chosen)

    def split_persons(self, fractions: Sequence[float] = (0.7, 0.1, 0.2), rng: RNGLike = 0) -> tuple[CareerPanel, ...]:
        """Split by person into disjoint panels, deterministically.

        Parameters
        ----------
        fractions : sequence of float
            Share of persons in each part; must be positive and sum to 1.
        rng : int or numpy.random.Generator
            Seed of the permutation.

        Returns
        -------
        tuple of CareerPanel
            One panel per fraction, in order.

        Notes
        -----
        The sorted person keys are permuted with
        ``numpy.random.default_rng(rng).permutation``; part ``k`` (except the
        last) gets ``round(fractions[k] * n)`` persons and the last part gets the
        rest. With the default fractions and seed this is the split of the
        reference baseline perplexities.
        """
        fracs = np.asarray(fractions, dtype=float)
        if fracs.ndim != 1 or len(fracs) < 2 or (fracs <= 0).any() or not np.isclose(fracs.sum(), 1.0):
            raise ValueError(f"split_persons: fractions must be >= 2 positive numbers summing to 1, got {fractions}")
        ids = np.sort(self.persons)
        perm = check_random_state(rng).permutation(ids)
        sizes = [round(float(f) * len(ids)) for f in fracs[:-1]]
        if sum(sizes) > len(ids):
            raise ValueError(f"split_persons: {len(ids)} persons are too few for fractions {tuple(fractions)}")
        bounds = np.cumsum([0, *sizes, len(ids) - sum(sizes)])
        return tuple(self.select_persons(perm[bounds[k] : bounds[k + 1]]) for k in range(len(fracs)))

    def split_at_year(self, origin: int) -> tuple[CareerPanel, CareerPanel]:
        """Split at a forecast origin: the history up to ``origin`` and the years after it.

        Parameters
        ----------
        origin : int
            Last year of the history (the forecast origin).

        Returns
        -------
        history : CareerPanel
            Rows with ``year <= origin`` (to train on).
        future : CareerPanel
            For every person observed after ``origin``, all of that person's rows;
            only the years after ``origin`` are targets, the earlier rows are the
            context a model conditions on.
        """
        years = self._data[YEAR].to_numpy()
        past = years <= origin
        history = self._from_canonical(self, self._data[past], self._target[past])
        later_persons = self._data.loc[~past, PERSON].unique()
        in_future = self._data[PERSON].isin(later_persons).to_numpy()
        future = self._from_canonical(self, self._data[in_future], (self._target & ~past)[in_future])
        return history, future

    def coarsen(self, level: str) -> CareerPanel:
        """The panel recoded to the groups of its scheme at ``level`` (see :meth:`OccupationScheme.coarsen`)."""
        mapping = self._scheme.coarsen_map(level)
        coarse = self._scheme.coarsen(level)
        frame = self._data.copy()
        frame[OCC] = pd.Categorical(frame[OCC].map(mapping).astype(str), categories=list(coarse.states))
        new = self._from_canonical(self, frame, self._target)
        new._scheme = coarse
        return new

    # ------------------------------------------------------------------ description
    def describe(self) -> PanelDescription:
        """Persons, person-years, years, gaps and state shares."""
        hist = self._history_columns()
        gaps = hist["gap"].dropna().astype(int)
        per_person = pd.Series(np.diff(self.person_offsets()))
        persons_with_gaps = int(self._data[PERSON][(hist["gap"] > 1).to_numpy()].nunique())
        shares = self._data[OCC].value_counts(normalize=True, sort=False)
        shares = shares[shares > 0].sort_values(ascending=False)
        kinds = {c: ("static" if c in self._static else "time-varying") for c in self._covariates}
        return PanelDescription(
            name=self.name,
            scheme=self._scheme.name,
            n_persons=self.n_persons,
            n_person_years=len(self),
            n_targets=self.n_targets,
            years=[int(y) for y in self.years],
            rows_per_person={
                "min": float(per_person.min()) if len(per_person) else 0.0,
                "median": float(per_person.median()) if len(per_person) else 0.0,
                "mean": float(per_person.mean()) if len(per_person) else 0.0,
                "max": float(per_person.max()) if len(per_person) else 0.0,
            },
            gap_counts={int(k): int(v) for k, v in gaps.value_counts().sort_index().items()},
            persons_with_gaps=persons_with_gaps,
            state_shares=shares,
            covariates=kinds,
            weight=WEIGHT if self._has_weight else None,
            time_unit=self._time_unit,
        )

    def to_wide(self) -> pd.DataFrame:
        """One row per person, one column per period: the state observed there (missing where not observed).

        When the panel has weights, a last column ``weight`` holds each person's weight (their first
        row's; :func:`~laborseq.panel.descriptives.person_weights`). Sequence-analysis packages
        (TraMineR, sequenzo) take this layout.
        """
        wide = wide_states(self)
        if self._has_weight:
            wide[WEIGHT] = person_weights(self, WEIGHT)
        return wide

    def to_sequenzo(self) -> Any:
        """The panel as a ``sequenzo.SequenceData``, to go on to optimal-matching distances and clustering there.

        One sequence per person over the periods of :meth:`to_wide` (columns labelled ``1993`` or ``1993-07``),
        missing where the person is not observed, with the persons' weights when the panel has them. Needs the
        optional extra ``pip install 'laborseq[sequences]'``.

        Raises
        ------
        ModuleNotFoundError
            When ``sequenzo`` is not installed, naming the extra.
        """
        try:
            # (an optional extra: imported only here, so laborseq imports without it)
            from sequenzo.define_sequence_data import SequenceData  # noqa: PLC0415
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "to_sequenzo needs the sequenzo package: pip install 'laborseq[sequences]'"
            ) from None
        wide = wide_states(self)
        wide.columns = [period_label(c, self._time_unit) for c in wide.columns]
        time = list(wide.columns)
        data = wide.astype(object).where(wide.notna(), None).reset_index()
        weights = person_weights(self, WEIGHT) if self._has_weight else None
        return SequenceData(data, time=time, states=list(self.states), id_col=PERSON, weights=weights)

    # ------------------------------------------------------------------ parquet I/O
    def _schema_metadata(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "scheme": self._scheme.to_dict(),
            "covariates": list(self._covariates),
            "static": list(self._static),
            "weight": self._has_weight,
            "time_unit": self._time_unit,
            "name": self.name,
            "metadata": self.metadata,
        }

    def to_arrow(self) -> pa.Table:
        """The panel as an Arrow table, with the scheme, covariate roles, name and metadata in its schema.

        This is what :meth:`to_parquet` writes (and :meth:`read_parquet` reads);
        writers that stream chunks of one panel into a file use it too.
        """
        frame = self._data
        if not self._target.all():
            frame = frame.assign(**{TARGET: self._target})
        return arrow_table(frame, self._schema_metadata())

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the panel to a parquet file, atomically.

        The scheme, covariate roles, name and metadata are stored in the Arrow
        schema metadata under the key ``laborseq``; the target mask is stored as
        an ``is_target`` column when some rows are context only. The file is
        written to a temporary file in the same directory and moved into place,
        so an interrupted write never leaves a corrupt panel behind.
        """
        return write_table_atomic(self.to_arrow(), path)

    @classmethod
    def read_parquet(cls, path: str | os.PathLike[str], **kwargs: Any) -> CareerPanel:
        """Read a panel written by :meth:`to_parquet`, or any long parquet table.

        Parameters
        ----------
        path : path-like
            The parquet file.
        **kwargs
            For a file without laborseq metadata: the column arguments of
            :class:`CareerPanel` (``person``, ``year``, ``occ``, ``covariates``,
            ...). Ignored otherwise.
        """
        path = Path(path)
        frame, arguments = read_panel_table(path)
        if arguments is None:
            kwargs.setdefault("name", path.stem)
            return cls(frame, **kwargs)
        try:
            return cls(frame, **arguments)
        except PanelValidationError as err:
            raise PanelValidationError(f"{path}: {err}", column=err.column, rows=err.rows) from err
