"""Resume job spells read batch by batch: parsed, validated and kept as compact numeric records.

:class:`SpellRecords` takes one pyarrow batch at a time, parses the person
key, the start and end dates and the occupation code of every row, counts the
invalid spells by reason (:data:`INVALID_REASONS`, the first failing check
applies) and keeps the valid ones as numbers: person key, start and end day,
ongoing flag, code, file row, and the education/location covariates as indices
into one :class:`CovariateDictionary` per covariate shared by all batches.
Non-numeric or fractional codes and fractional numeric person keys raise
:class:`ResumeFormatError` naming the rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from laborseq.sources.resumes.column_values import blank_to_null, is_text, null_mask, parse_dates, plain_array

INVALID_REASONS: tuple[str, ...] = (
    "missing person id",
    "missing start date",
    "unparseable start date",
    "unparseable end date",
    "end date before start date",
    "ongoing spell starts after current_year",
)
"""Reasons an individual spell is invalid, in the order they are checked (the first one applies)."""

REASON_ROLE = dict(zip(INVALID_REASONS, ("person", "start", "start", "end", "end", "start"), strict=True))
"""The column role (``person``, ``start``, ``end``) each invalid-spell reason is about."""

EXAMPLES = 10
"""Row numbers kept per reason in the lineage."""

_NUMBER_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$"


class ResumeFormatError(ValueError):
    """A resume file that cannot be read: the message names the file, the column and the rows.

    Attributes
    ----------
    path : str
        The file.
    column : str or None
        The offending column.
    rows : list of int
        0-based data rows (header excluded) where the problem occurs (up to 20).
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str], column: str | None = None, rows: Any = ()):
        super().__init__(message)
        self.path = str(path)
        self.column = column
        self.rows = [int(r) for r in list(rows)[:20]]


SpellSink = Callable[[dict[str, Any]], None]
"""Receives each batch's valid spells (see :meth:`SpellRecords.add`) instead of :class:`SpellRecords` keeping them."""


class SpellRecords:
    """Accumulates compact, valid spell records batch by batch, over one or many files.

    After the last batch, :func:`~laborseq.sources.resumes.person_years.build_panel`
    turns them into the panel. Row numbers run on across files (0-based
    positions among the data rows of the files in their order); messages
    name the file and its own row of each example.

    Parameters
    ----------
    source : str
        The input as the user gave it (a file, a directory, a pattern).
    roles : dict
        Column of each role (``person``, ``start``, ``end``, ``occ``, and
        optionally ``education``, ``location``).
    frame : str
        Code frame of the ``occ`` column.
    sink : callable, optional
        Called with each batch's valid spells (a dict of arrays: ``person``,
        ``start``, ``end``, ``ongoing``, ``code``, ``row`` and the covariate ids)
        instead of keeping them; the out-of-core engine writes them to disk.
    """

    def __init__(self, source: str, roles: dict[str, str], frame: str, sink: SpellSink | None = None) -> None:
        self.path = source
        self.roles = roles
        self.frame = frame
        self.sink = sink
        self.files: list[tuple[Path, int, bool]] = []
        self.n_rows = 0
        self.n_valid = 0
        self.invalid = dict.fromkeys(INVALID_REASONS, 0)
        self.invalid_rows: dict[str, list[int]] = {r: [] for r in INVALID_REASONS}
        self.person: list[pa.Array] = []
        self.start: list[np.ndarray] = []
        self.end: list[np.ndarray] = []
        self.ongoing: list[np.ndarray] = []
        self.code: list[np.ndarray] = []
        self.row: list[np.ndarray] = []
        self.covariates: dict[str, CovariateDictionary] = {
            role: CovariateDictionary() for role in ("education", "location") if role in roles
        }
        self.covariate_ids: dict[str, list[np.ndarray]] = {role: [] for role in self.covariates}

    @property
    def is_csv(self) -> bool:
        """Whether the file being read (or the last one read) is a CSV file."""
        return bool(self.files) and self.files[-1][2]

    def begin_file(self, path: Path, is_csv: bool) -> None:
        """Start reading ``path``: its rows follow those of the files before it."""
        self.files.append((path, self.n_rows, is_csv))

    def add(self, batch: pa.RecordBatch) -> None:
        """Parse and check one batch; count its invalid spells and keep (or sink) the valid ones."""
        n = batch.num_rows
        if n == 0:
            return
        rows = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        column = {
            role: plain_array(batch.column(batch.schema.get_field_index(name))) for role, name in self.roles.items()
        }
        person, no_person = self._person(column["person"], rows)
        start_day, start_status = parse_dates(column["start"], is_end=False)
        end_day, end_status = parse_dates(column["end"], is_end=True)
        code = self._codes(column["occ"], rows)

        reason = np.full(n, -1, dtype=np.int8)
        checks = (
            no_person,
            start_status == 1,
            start_status == 2,
            end_status == 2,
            (end_status == 0) & (end_day < start_day),
        )
        for k, failed in enumerate(checks):
            hit = (reason < 0) & failed
            reason[hit] = k
            self.count_invalid(INVALID_REASONS[k], rows[hit])
        valid = reason < 0
        self.n_valid += int(valid.sum())
        spells = {
            "person": person.filter(pa.array(valid)),
            "start": start_day[valid].astype(np.int32),  # days since 1970: int32 is plenty
            "end": np.where(end_status == 1, 0, end_day)[valid].astype(np.int32),  # ongoing: set at the end
            "ongoing": (end_status == 1)[valid],
            "code": code[valid],
            "row": rows[valid],
        }
        for role, dictionary in self.covariates.items():
            spells[role] = dictionary.encode(column[role])[valid].astype(np.int32)
        if self.sink is not None:
            self.sink(spells)
            return
        for role in ("person", "start", "end", "ongoing", "code", "row"):
            getattr(self, role).append(spells[role])
        for role in self.covariates:
            self.covariate_ids[role].append(spells[role])

    def count_invalid(self, reason: str, rows: Any, count: int | None = None) -> None:
        """Count invalid spells at file ``rows`` under ``reason`` (keeping the first :data:`EXAMPLES` rows).

        ``count`` (default ``len(rows)``) is the number of such spells when ``rows`` holds only the first ones.
        """
        self.invalid[reason] += len(rows) if count is None else int(count)
        room = EXAMPLES - len(self.invalid_rows[reason])
        if room > 0:
            self.invalid_rows[reason].extend(int(r) for r in rows[:room])

    def where(self, rows: Any) -> str:
        """``"3 row(s) [4, 7, 9] (CSV lines [6, 9, 11])"``: rows for a message.

        Over several files the rows run on across them, and the message adds
        the file and the file's own row of the first one.
        """
        rows = [int(r) for r in rows]
        shown = rows[:10]
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        if len(self.files) <= 1:
            lines = f" (CSV lines {[r + 2 for r in shown]})" if self.is_csv else ""
            return f"{len(rows)} row(s) {shown}{more}{lines}"
        if not rows:
            return "0 row(s)"
        path, local, is_csv = self.locate(rows[0])
        line = f", CSV line {local + 2}" if is_csv else ""
        return f"{len(rows)} row(s) {shown}{more} of the files in order (the first is row {local} of {path}{line})"

    def locate(self, row: int) -> tuple[Path, int, bool]:
        """The file of a row (counted across the files), its row within that file and whether it is a CSV."""
        for path, first, is_csv in reversed(self.files):
            if row >= first:
                return path, row - first, is_csv
        raise IndexError(f"row {row} precedes the first file")  # pragma: no cover - rows are never negative

    def _person(self, array: pa.Array, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """Person keys as int64 or trimmed text, and which are missing."""
        column = self.roles["person"]
        if pa.types.is_integer(array.type):
            return pc.cast(array, pa.int64()), null_mask(array)
        if pa.types.is_floating(array.type):
            values = np.asarray(pc.cast(array, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False))
            fractional = (values != np.floor(values)) & ~null_mask(array)
            if fractional.any():
                raise ResumeFormatError(
                    f"{self.path}: non-integer numeric person key in column {column!r} at "
                    f"{self.where(rows[fractional])}",
                    path=self.path,
                    column=column,
                    rows=rows[fractional],
                )
            return pc.cast(array, pa.int64(), safe=False), null_mask(array)
        if not is_text(array):
            array = pc.cast(array, pa.string())
        text = pc.cast(blank_to_null(array), pa.large_string())
        return text, null_mask(text)

    def _codes(self, array: pa.Array, rows: np.ndarray) -> np.ndarray:
        """Codes as float64 (NaN when blank); text that is not a number and fractions raise."""
        column = self.roles["occ"]
        if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
            values = np.asarray(pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        else:
            if not is_text(array):
                array = pc.cast(array, pa.string())
            text = blank_to_null(array)
            numeric = pc.match_substring_regex(text, _NUMBER_PATTERN)
            bad = np.asarray(pc.invert(numeric).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
            if bad.any():
                first = text[int(np.flatnonzero(bad)[0])].as_py()
                raise ResumeFormatError(
                    f"{self.path}: non-numeric {self.frame} code(s) in column {column!r}, e.g. {first!r}, at "
                    f"{self.where(rows[bad])}; codes must be numbers (blank for missing)",
                    path=self.path,
                    column=column,
                    rows=rows[bad],
                )
            cleaned = pc.utf8_trim_whitespace(text)
            values = np.asarray(pc.cast(cleaned, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        finite = np.isfinite(values)
        bad = ~np.isnan(values) & (~finite | (values != np.floor(np.where(finite, values, 0))))
        if bad.any():
            raise ResumeFormatError(
                f"{self.path}: non-integer {self.frame} code(s) in column {column!r}, e.g. "
                f"{float(values[bad][0])!r}, at {self.where(rows[bad])}",
                path=self.path,
                column=column,
                rows=rows[bad],
            )
        return values.astype(np.float64)


class CovariateDictionary:
    """Distinct values of a covariate across batches; each batch is encoded as indices into them."""

    def __init__(self) -> None:
        self._values: pa.Array | None = None

    def encode(self, array: pa.Array) -> np.ndarray:
        array = plain_array(array)
        if is_text(array):
            array = pc.cast(blank_to_null(array), pa.large_string())
        if self._values is not None and array.type != self._values.type:  # e.g. numbers in a parquet file, text
            array = pc.cast(array, pa.large_string())  # in a CSV: all values become text (ids keep their order)
            self._values = pc.cast(self._values, pa.large_string())
        distinct = pc.unique(array.drop_null())
        if self._values is None:
            self._values = distinct
        else:
            new = distinct.filter(pc.invert(pc.is_in(distinct, value_set=self._values)))
            if len(new):
                self._values = pa.concat_arrays([self._values, new])
        ids = pc.index_in(array, value_set=self._values)
        return np.asarray(ids.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def values(self, ids: np.ndarray) -> pd.Categorical | np.ndarray:
        """The values of ``ids`` (-1 = missing): a categorical with sorted categories for text, else numbers."""
        if self._values is None or len(self._values) == 0:
            return np.full(len(ids), np.nan)
        if is_text(self._values):
            labels = np.asarray(self._values.to_pylist(), dtype=object)
            order = np.argsort(labels, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes = np.where(ids >= 0, rank[np.maximum(ids, 0)], -1)
            return pd.Categorical.from_codes(codes, categories=pd.Index(labels[order], dtype=object))
        values = self._values.to_numpy(zero_copy_only=False)
        if values.dtype.kind in "iufb":
            out = values.astype(np.float64)[np.maximum(ids, 0)]
            out[ids < 0] = np.nan
            return out
        picked = values[np.maximum(ids, 0)].astype(object)
        picked[ids < 0] = None
        return picked
