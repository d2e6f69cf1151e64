"""The canonical career panel: one validated row per person-year.

:class:`CareerPanel` is the table every reader produces and every model consumes.
It holds a person key, the calendar year, the state (an occupation code of the
panel's :class:`~laborseq.occupations.scheme.OccupationScheme` or a status token),
optional covariates and an optional survey weight. It is validated on
construction, kept sorted by person and year, and saved to parquet with its
scheme and metadata in the Arrow schema.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq._util.json import plain, to_jsonable
from laborseq._util.random import RNGLike
from laborseq.occupations.scheme import STATUS_TOKENS, OccupationScheme
from laborseq.panel.lineage import Lineage

PERSON = "person_id"
YEAR = "year"
OCC = "occ"
WEIGHT = "weight"
TARGET = "is_target"
_METADATA_KEY = b"laborseq"
_FORMAT_VERSION = 1


class PanelValidationError(ValueError):
    """Raised when data cannot form a valid :class:`CareerPanel`.

    Attributes
    ----------
    column : str or None
        The offending column.
    rows : list
        Index labels of the offending rows in the input DataFrame (positions when
        its index is not unique), or person keys.
    """

    def __init__(self, message: str, *, column: str | None = None, rows: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.column = column
        self.rows = list(rows)


@dataclass(frozen=True)
class SequenceArrays:
    """A panel as flat arrays, one segment per person (CSR layout).

    Attributes
    ----------
    person_ids : numpy.ndarray
        Person key of each sequence, shape ``(n_persons,)``.
    offsets : numpy.ndarray
        ``states[offsets[i]:offsets[i + 1]]`` is person ``i``'s sequence; shape
        ``(n_persons + 1,)``.
    states : numpy.ndarray
        State index (into ``scheme.states``) of every person-year, int32.
    years : numpy.ndarray
        Calendar year of every person-year, int16.
    target : numpy.ndarray
        Whether each person-year is a target (scored) or context only.
    """

    person_ids: np.ndarray
    offsets: np.ndarray
    states: np.ndarray
    years: np.ndarray
    target: np.ndarray

    def __len__(self) -> int:
        return len(self.person_ids)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.states[self.offsets[i] : self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """Number of person-years of each sequence."""
        return np.diff(self.offsets)


@dataclass(frozen=True)
class PanelDescription:
    """Summary statistics of a panel (see :meth:`CareerPanel.describe`)."""

    name: str | None
    scheme: str
    n_persons: int
    n_person_years: int
    n_targets: int
    years: list[int]
    rows_per_person: dict[str, float]
    gap_counts: dict[int, int]
    persons_with_gaps: int
    state_shares: pd.Series
    covariates: dict[str, str]
    weight: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "name": self.name,
            "scheme": self.scheme,
            "n_persons": self.n_persons,
            "n_person_years": self.n_person_years,
            "n_targets": self.n_targets,
            "years": self.years,
            "rows_per_person": self.rows_per_person,
            "gap_counts": {str(k): v for k, v in self.gap_counts.items()},
            "persons_with_gaps": self.persons_with_gaps,
            "state_shares": {str(k): float(v) for k, v in self.state_shares.items()},
            "covariates": self.covariates,
            "weight": self.weight,
        }

    def __str__(self) -> str:
        years = self.years
        span = f"{years[0]}-{years[-1]} ({len(years)} distinct years)" if years else "none"
        gaps = ", ".join(f"{k} yr: {v:,}" for k, v in sorted(self.gap_counts.items()))
        covs = ", ".join(f"{k} ({v})" for k, v in self.covariates.items()) or "none"
        rpp = self.rows_per_person
        lines = [
            f"CareerPanel {self.name or ''}".rstrip(),
            f"  scheme            {self.scheme}",
            f"  persons           {self.n_persons:,}",
            f"  person-years      {self.n_person_years:,} ({self.n_targets:,} targets)",
            f"  years             {span}",
            f"  rows per person   min {rpp['min']:.0f}, median {rpp['median']:.0f}, max {rpp['max']:.0f}",
            f"  gaps between obs  {gaps or 'none'}",
            f"  persons with gaps {self.persons_with_gaps:,}",
            f"  covariates        {covs}",
            f"  weight            {self.weight or 'none'}",
            "  state shares",
        ]
        for state, share in self.state_shares.items():
            lines.append(f"    {state!s:<24} {share:.4f}")
        return "\n".join(lines)


class CareerPanel:
    """A longitudinal panel of careers: one row per person-year.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table with at least a person key, a year and a state column.
    person, year, occ : str
        Names of the person, year and state columns in ``data``. They are
        renamed to ``person_id``, ``year`` and ``occ``.
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
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"CareerPanel expects a pandas DataFrame, got {type(data).__name__}")
        if not data.index.is_unique:
            data = data.reset_index(drop=True)
        covariates = list(covariates or [])
        required = [person, year, occ, *covariates] + [c for c in (weight, target) if c is not None]
        missing = [c for c in required if c not in data.columns]
        if missing:
            raise PanelValidationError(
                f"CareerPanel: column(s) {missing} not found; the data have columns {list(data.columns)}",
                column=missing[0],
            )
        reserved = {PERSON, YEAR, OCC, WEIGHT, TARGET}
        clash = [c for c in covariates if c in reserved]
        if clash:
            raise PanelValidationError(f"CareerPanel: covariate name(s) {clash} are reserved", column=clash[0])
        if len(set(covariates)) != len(covariates):
            raise PanelValidationError(f"CareerPanel: covariates listed twice: {covariates}")

        frame = pd.DataFrame(
            {
                PERSON: _clean_person(data[person], person),
                YEAR: _clean_year(data[year], year),
            },
            index=data.index,
        )
        frame[OCC], scheme = _state_categorical(data[occ], occ, scheme, name)
        for cov in covariates:
            values = data[cov]
            is_text = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
            frame[cov] = values.astype("category") if is_text else values
        if weight is not None:
            frame[WEIGHT] = _clean_weight(data[weight], weight)
        target_mask = np.ones(len(frame), dtype=bool) if target is None else _clean_target(data[target], target)
        frame[TARGET] = target_mask

        frame = frame.sort_values([PERSON, YEAR], kind="stable")
        _check_duplicates(frame, person, year)
        frame = frame.reset_index(drop=True)
        static_set = _resolve_static(frame, covariates, static)

        self._data = frame.drop(columns=TARGET)
        self._target = frame[TARGET].to_numpy(dtype=bool)
        self._scheme = scheme
        self._covariates = tuple(covariates)
        self._static = tuple(c for c in covariates if c in static_set)
        self._has_weight = weight is not None
        self.name = name
        self.metadata: dict[str, Any] = dict(metadata or {})

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
        new.name = panel.name
        new.metadata = dict(panel.metadata)
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
        return self._data[PERSON].unique()

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return int(self._data[PERSON].nunique())

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
        persons = self._data[PERSON].to_numpy()
        out = np.full(len(states), -1, dtype=np.int32)
        if lag < len(states):
            same = persons[lag:] == persons[:-lag]
            out[lag:] = np.where(same, states[:-lag], -1)
        return out

    def positions(self) -> np.ndarray:
        """0-based position of every row within its person's sequence."""
        return self._data.groupby(PERSON, sort=False).cumcount().to_numpy()

    def _history_columns(self) -> pd.DataFrame:
        """Per row: position, previous observed state and years since it."""
        persons = self._data[PERSON].to_numpy()
        years = self._data[YEAR].to_numpy().astype(np.int64)
        first = np.ones(len(persons), dtype=bool)
        first[1:] = persons[1:] != persons[:-1]
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
        persons = self._data[PERSON].to_numpy()
        starts = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1]]) if len(persons) else np.array([], int)
        offsets = np.r_[starts, len(persons)].astype(np.int64)
        return SequenceArrays(
            person_ids=persons[starts],
            offsets=offsets,
            states=self.state_index(),
            years=self._data[YEAR].to_numpy(),
            target=self._target.copy(),
        )

    # ------------------------------------------------------------------ subsets and splits
    def select_persons(self, persons: Iterable[Any]) -> CareerPanel:
        """The sub-panel of the given persons (unknown keys are ignored)."""
        keep = self._data[PERSON].isin(list(persons)).to_numpy()
        return self._from_canonical(self, self._data[keep], self._target[keep])

    def sample_persons(self, n: int, rng: RNGLike = 0) -> CareerPanel:
        """A random sub-panel of ``n`` persons (all of them if ``n`` exceeds the count)."""
        gen = np.random.default_rng(rng)
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
        perm = np.random.default_rng(rng).permutation(ids)
        sizes = [round(float(f) * len(ids)) for f in fracs[:-1]]
        if sum(sizes) > len(ids):
            raise ValueError(f"split_persons: {len(ids)} persons are too few for fractions {tuple(fractions)}")
        bounds = np.cumsum([0, *sizes, len(ids) - sum(sizes)])
        return tuple(self.select_persons(perm[bounds[k] : bounds[k + 1]]) for k in range(len(fracs)))

    def split_at_year(self, cutoff: int) -> tuple[CareerPanel, CareerPanel]:
        """Split at a calendar cut-off for forecasting.

        Parameters
        ----------
        cutoff : int
            Last year of the history.

        Returns
        -------
        history : CareerPanel
            Rows with ``year <= cutoff`` (to train on).
        future : CareerPanel
            For every person observed after ``cutoff``, all of that person's rows;
            only the years after ``cutoff`` are targets, the earlier rows are the
            context a model conditions on.
        """
        years = self._data[YEAR].to_numpy()
        past = years <= cutoff
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
        per_person = self._data.groupby(PERSON, sort=False).size()
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
        )

    # ------------------------------------------------------------------ parquet I/O
    def _schema_metadata(self) -> dict[str, Any]:
        return {
            "format_version": _FORMAT_VERSION,
            "scheme": self._scheme.to_dict(),
            "covariates": list(self._covariates),
            "static": list(self._static),
            "weight": self._has_weight,
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
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_METADATA_KEY] = json.dumps(to_jsonable(self._schema_metadata())).encode()
        return table.replace_schema_metadata(meta)

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the panel to a parquet file, atomically.

        The scheme, covariate roles, name and metadata are stored in the Arrow
        schema metadata under the key ``laborseq``; the target mask is stored as
        an ``is_target`` column when some rows are context only. The file is
        written to a temporary file in the same directory and moved into place,
        so an interrupted write never leaves a corrupt panel behind.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = self.to_arrow()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

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
        if not path.exists():
            raise FileNotFoundError(f"panel file {path} does not exist")
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(_METADATA_KEY)
        frame = table.to_pandas()
        if raw is None:
            kwargs.setdefault("name", path.stem)
            return cls(frame, **kwargs)
        meta = json.loads(raw)
        if meta.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(f"{path}: written by a newer laborseq (format {meta['format_version']})")
        scheme = OccupationScheme.from_dict(meta["scheme"])
        try:
            return cls(
                frame,
                covariates=meta["covariates"],
                static=meta["static"],
                weight=WEIGHT if meta["weight"] else None,
                scheme=scheme,
                name=meta.get("name"),
                metadata=meta.get("metadata"),
                target=TARGET if TARGET in frame.columns else None,
            )
        except PanelValidationError as err:
            raise PanelValidationError(f"{path}: {err}", column=err.column, rows=err.rows) from err


# ---------------------------------------------------------------------- validation helpers
def _preview(labels: Iterable[Any], limit: int = 10) -> str:
    labels = [plain(x) for x in labels]
    shown = ", ".join(repr(x) if isinstance(x, str) else str(x) for x in labels[:limit])
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return f"[{shown}{more}]"


def _fail(message: str, column: str, rows: pd.Index | Sequence[Any]) -> PanelValidationError:
    rows = list(rows)
    return PanelValidationError(
        f"CareerPanel: {message} in column {column!r} at {len(rows)} row(s) {_preview(rows)}",
        column=column,
        rows=rows,
    )


def _clean_person(values: pd.Series, column: str) -> pd.Series:
    bad = values.isna()
    if bad.any():
        raise _fail("missing person key", column, values.index[bad])
    if pd.api.types.is_bool_dtype(values):
        raise _fail("boolean person key", column, values.index[:1])
    if pd.api.types.is_integer_dtype(values):
        return values.astype(np.int64)
    if pd.api.types.is_float_dtype(values):
        frac = values != np.floor(values)
        if frac.any():
            raise _fail("non-integer numeric person key", column, values.index[frac])
        return values.astype(np.int64)
    return values.astype(str)


def _clean_year(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        raise _fail("boolean year", column, values.index[:1])
    numeric = pd.to_numeric(values, errors="coerce")
    missing = values.isna()
    if missing.any():
        raise _fail("missing year", column, values.index[missing])
    bad = numeric.isna() | (numeric != np.floor(numeric))
    if bad.any():
        raise _fail(f"non-integer year (e.g. {plain(values[bad].iloc[0])!r})", column, values.index[bad])
    out_of_range = (numeric < 1000) | (numeric > 3000)
    if out_of_range.any():
        raise _fail(
            f"year outside 1000-3000 (e.g. {numeric[out_of_range].iloc[0]:g}; two-digit years must be made four-digit)",
            column,
            values.index[out_of_range],
        )
    return numeric.astype(np.int16)


def _state_categorical(
    values: pd.Series, column: str, scheme: OccupationScheme | None, name: str | None
) -> tuple[pd.Categorical, OccupationScheme]:
    """States as a categorical over the scheme's states (the scheme is built from the data if not given).

    Values are factorized first and only the distinct values are converted to
    strings, so tens of millions of rows cost one hash pass.
    """
    missing = values.isna()
    if missing.any():
        raise _fail("missing state", column, values.index[missing])
    codes, uniques = pd.factorize(values, sort=False)
    labels = [_state_label(u) for u in np.asarray(uniques, dtype=object)]
    if scheme is None:
        scheme = OccupationScheme.from_codes(
            [u for u in labels if u not in STATUS_TOKENS],
            name=name or "observed",
            status_tokens=[t for t in STATUS_TOKENS if t in set(labels)],
        )
    lookup = np.array([scheme.index(u) if u in scheme else -1 for u in labels], dtype=np.int32)
    state_codes = lookup[codes] if len(codes) else np.zeros(0, dtype=np.int32)
    unknown = state_codes < 0
    if unknown.any():
        bad = sorted({labels[i] for i in np.flatnonzero(lookup < 0)})
        raise _fail(f"state(s) {_preview(bad)} not in scheme {scheme.name!r}", column, values.index[unknown])
    return pd.Categorical.from_codes(state_codes, categories=list(scheme.states)), scheme


def _state_label(value: Any) -> str:
    """A state value as the string used in schemes (whole-number floats without ``.0``)."""
    value = plain(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _clean_weight(values: pd.Series, column: str) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce").astype(float)
    missing = numeric.isna() | ~np.isfinite(numeric)
    if missing.any():
        raise _fail("missing or non-numeric weight", column, values.index[missing])
    negative = numeric < 0
    if negative.any():
        raise _fail("negative weight", column, values.index[negative])
    return numeric


def _clean_target(values: pd.Series, column: str) -> np.ndarray:
    if not pd.api.types.is_bool_dtype(values):
        raise _fail("target column must be boolean", column, values.index[:1])
    missing = values.isna()
    if missing.any():
        raise _fail("missing target flag", column, values.index[missing])
    return values.to_numpy(dtype=bool)


def _same_person_as_previous(frame: pd.DataFrame) -> np.ndarray:
    """For rows sorted by person: whether each row has the same person as the row before."""
    persons = frame[PERSON].to_numpy()
    out = np.zeros(len(persons), dtype=bool)
    out[1:] = persons[1:] == persons[:-1]
    return out


def _check_duplicates(frame: pd.DataFrame, person: str, year: str) -> None:
    """Duplicate person-years in a frame sorted by person and year (adjacent rows)."""
    years = frame[YEAR].to_numpy()
    repeat = _same_person_as_previous(frame)
    repeat[1:] &= years[1:] == years[:-1]
    if repeat.any():
        dup = repeat.copy()
        dup[:-1] |= repeat[1:]
        first = frame[dup].iloc[0]
        rows = list(frame.index[dup])
        raise PanelValidationError(
            f"CareerPanel: duplicate person-year in columns ({person!r}, {year!r}), e.g. person "
            f"{plain(first[PERSON])!r} in {plain(first[YEAR])}, at {len(rows)} row(s) {_preview(rows)}",
            column=year,
            rows=rows,
        )


def _resolve_static(frame: pd.DataFrame, covariates: list[str], static: Sequence[str] | None) -> set[str]:
    """Covariates constant within every person (missing counts as a value); check declared ones."""
    if not covariates:
        return set()
    same = _same_person_as_previous(frame)
    varying_rows = {}
    for cov in covariates:
        codes = pd.factorize(frame[cov], use_na_sentinel=False)[0]
        changes = np.zeros(len(codes), dtype=bool)
        changes[1:] = codes[1:] != codes[:-1]
        varying_rows[cov] = changes & same
    constant = {c for c in covariates if not varying_rows[c].any()}
    if static is None:
        return constant
    unknown = set(static) - set(covariates)
    if unknown:
        raise PanelValidationError(f"CareerPanel: static covariate(s) {sorted(unknown)} are not covariates")
    for cov in static:
        if cov not in constant:
            persons = pd.unique(frame[PERSON].to_numpy()[varying_rows[cov]])
            raise PanelValidationError(
                f"CareerPanel: static covariate {cov!r} varies within {len(persons)} person(s) {_preview(persons)}",
                column=cov,
                rows=list(persons),
            )
    return set(static)
