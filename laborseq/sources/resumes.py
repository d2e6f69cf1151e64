"""Resume job spells -> a harmonised panel of occupations (one state per person-year).

:func:`read_resumes` reads job spells (person, start date, end date, occupation
code, optional education and location) from a CSV or parquet file in batches,
turns every spell into one *candidate* per calendar year it overlaps, ranks the
candidates of each person-year by a documented rule and hands them to
:func:`laborseq.sources.harmonize.harmonize`, which maps the codes to occ1990dd,
keeps one state per person-year and counts every row it does not keep.

Rules
-----
Dates
    ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (``-``, ``/`` or ``.`` as
    separator, an optional time of day after ``T`` or a space), parquet
    ``date``/``timestamp`` columns, or integer years. A partial date means the
    whole period: a start ``2010-03`` is 1 March 2010, an end ``2010-03`` is 31
    March 2010, a start ``2010`` is 1 January and an end ``2010`` is 31 December.
    Years outside 1000-3000 are invalid. Both ends are inclusive.
Ongoing spells
    A blank end date (or one of pyarrow's null markers such as ``NA``) means the
    job is ongoing. It runs to 31 December of ``current_year`` when that is
    given, otherwise to the latest date (start or end) of any valid spell in the
    file. With ``current_year``, an ongoing spell that starts after it is invalid.
One state per person-year
    Every (spell, calendar year it overlaps) is a candidate. ``rule="longest"``
    ranks the candidates of a person-year by the days the job was held in that
    year (most first); ``rule="last"`` by the last day it was held in that year
    (latest first), so a job held on 31 December wins and, if none is, the job
    held most recently before it. Ties go to the later start date, then to the
    earlier row of the file. The rank is the candidate's ``priority`` (0 = the
    rule's choice). :func:`harmonize` keeps, per person-year, the best-ranked
    candidate whose code maps to an occ1990dd state, so a first choice with a
    blank or unmappable code falls back to the next job of that year (the first
    choice is counted under its crosswalk reason, the others as superseded).
    Years that no spell overlaps are absent (gaps); nothing is invented.
Covariates
    ``education`` and ``location`` of a person-year are those of the spell that
    gave its state (columns ``education`` and ``location`` of the panel, time
    varying; missing where that spell has none).
Codes
    ``frame`` names the code frame of the ``occ`` column, one of
    :data:`laborseq.occupations.crosswalk.FRAMES`: a Census frame (``"occ2010"``,
    ``"occ2000"``, ...) or ``"occ1990dd"`` for codes that are harmonised
    already (there, as in every crosswalk, 905 becomes ``military``, 991
    ``unemployed``, 999 means no occupation, and in the dorn2013 family 874 is
    873, Dorn's alias).
    Codes must be numeric: text such as ``"nurse"`` raises
    :class:`ResumeFormatError` naming the rows; blank codes are counted as
    missing values by :func:`harmonize`.
Invalid and duplicated spells
    Spells with a missing person key, a missing or unparseable start date, an
    unparseable end date or an end before the start are dropped and counted by
    reason (if *no* spell is valid the file is rejected). A spell identical to
    an earlier one (same person, start, end, ongoing flag, code, education and
    location after parsing) is dropped as an exact duplicate.
Lineage
    The unit is the *spell-year* (one candidate): ``rows_read`` = spell-years of
    the valid spells + one row per invalid spell (its years are unknown). In
    order, the lineage counts invalid spells (stage ``"read"``), spell-years of
    exact duplicates (``"spells"``), spell-years outside ``years``
    (``"years"``), then :func:`harmonize`'s steps (blank codes, crosswalk
    outcomes, superseded), so that ``rows_read = len(panel) + rows_dropped``.
Rows and missing values
    Row numbers in messages and in the lineage are 0-based positions among the
    data rows of the file (header excluded; line ``row + 2`` of a CSV without
    embedded newlines). In a CSV every column is read as text; blank cells and
    pyarrow's null markers (``NA``, ``N/A``, ``NULL``, ``NaN``, ``null``, ...)
    are missing, and surrounding spaces are ignored. Text person keys that are
    all canonical integers (``"12"``, not ``"012"``) become integers; otherwise
    they stay text. A parquet file keeps its column types.

Memory
------
The file is read ``batch_size`` rows at a time (``pyarrow.parquet.ParquetFile.
iter_batches``, or ``pyarrow.csv.open_csv`` with only the named columns
converted, all as text, re-sliced to ``batch_size`` rows). Each batch is
reduced at once to compact numeric spell records (person key, start and end
day, code, file row, and education/location as indices into one dictionary of
distinct values shared by all batches: about 40 bytes per spell plus the
person key); its text is then freed. After the last batch the spells are
expanded to candidates, ranked across batches and harmonised, so a person
whose spells straddle batch boundaries is treated exactly as if the file were
read at once, and neither the panel nor the lineage depends on ``batch_size``.
Memory therefore grows with the number of spell-years (about 40 bytes each in
the candidate table, plus the temporaries of :func:`harmonize` and of
:class:`~laborseq.panel.CareerPanel`), i.e. with the size of the output panel
(spell-years exceed person-years only by overlapping jobs), not with the size
of the file: columns that are not named (job descriptions, ...) are never
converted, and only one batch of raw text is held at a time. Measured on
2,000,000 synthetic spells (9.1 million spell-years, 6.7 million person-years,
a 97 MB CSV, ``batch_size=500_000``, 2 CPU cores): about 16 s, 0.5 GB peak
after reading, 1.3 GB when :func:`harmonize` starts, 2.1 GB peak in all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from laborseq.occupations.crosswalk import FRAMES, MAPPED, UNMAPPED, OnUnmapped, UnmappedCodeError, crosswalk
from laborseq.occupations.occ1990dd import Variant, check_variant
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import harmonize

Rule = Literal["longest", "last"]
RULES: tuple[str, ...] = ("longest", "last")

LINEAGE_UNIT = "spell-year"
"""What one lineage row is: a (spell, calendar year) candidate; an invalid spell counts once."""

# Reasons an individual spell is invalid, in the order they are checked (the first one applies).
_INVALID_REASONS: tuple[str, ...] = (
    "missing person id",
    "missing start date",
    "unparseable start date",
    "unparseable end date",
    "end date before start date",
    "ongoing spell starts after current_year",
)
_REASON_ROLE = dict(zip(_INVALID_REASONS, ("person", "start", "start", "end", "end", "start"), strict=True))
_EXAMPLES = 10  # row numbers kept per reason in the lineage
_DATE_PATTERN = (
    r"^\s*(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2}))?)?"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?\s*$"
)
_NUMBER_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$"
_CANONICAL_INT_PATTERN = r"^-?(0|[1-9][0-9]{0,17})$"
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


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


def read_resumes(
    path: str | os.PathLike[str],
    *,
    person: str = "person_id",
    start: str = "start_date",
    end: str = "end_date",
    occ: str = "occ",
    frame: str = "occ1990dd",
    education: str | None = None,
    location: str | None = None,
    rule: Rule = "longest",
    years: tuple[int, int] | Iterable[int] | None = None,
    variant: Variant = "dorn2013",
    on_unmapped: OnUnmapped = "drop",
    batch_size: int = 1_000_000,
    current_year: int | None = None,
    name: str | None = None,
) -> CareerPanel:
    """Read job spells from a CSV or parquet file into an occ1990dd panel, one state per person-year.

    See the module documentation for the rules (dates, ongoing spells, the
    choice of one job per year, covariates, lineage and memory).

    Parameters
    ----------
    path : path-like
        CSV (``.csv``, ``.tsv``, optionally compressed, e.g. ``.csv.gz``) or
        parquet file (``.parquet``, ``.pq``; other names are sniffed).
    person, start, end, occ : str
        Columns of the person key, the start and end dates and the occupation code.
    frame : str
        Code frame of ``occ``: one of :data:`laborseq.occupations.crosswalk.FRAMES`
        (``"occ1990dd"`` for codes that are harmonised already).
    education, location : str, optional
        Columns of per-spell covariates; they become the time-varying panel
        covariates ``education`` and ``location``.
    rule : {"longest", "last"}
        The job that gives a person-year its state: held longest in the year,
        or held at (or last before) the end of the year.
    years : (first, last) tuple or iterable of int, optional
        Keep only these calendar years: a 2-tuple is an inclusive range, any
        other iterable (``range``, list, set) the set of years. Spell-years
        outside are counted as dropped.
    variant : {"dorn2013", "deming2017"}
        occ1990dd family of the result.
    on_unmapped : {"drop", "raise"}
        ``"drop"``: codes that do not map are counted and dropped;
        ``"raise"``: raise :class:`~laborseq.occupations.crosswalk.UnmappedCodeError` listing
        them with their file rows.
    batch_size : int
        Rows read at a time.
    current_year : int, optional
        Ongoing spells run to 31 December of this year (default: to the latest
        date in the file).
    name : str, optional
        Panel name (default: the file name without suffix).

    Returns
    -------
    CareerPanel
        In occ1990dd of ``variant``, with ``panel.lineage`` (unit
        ``"spell-year"``) and ``panel.metadata`` recording the rule and columns.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ResumeFormatError
        On an empty file, a file without spells, missing columns, non-numeric or
        non-integer codes, or when no spell is valid.
    UnmappedCodeError
        With ``on_unmapped="raise"``, when codes do not map.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if frame not in FRAMES:
        raise ValueError(f"unknown occupation frame {frame!r}; choose from {FRAMES}")
    variant = check_variant(variant)
    if on_unmapped not in ("drop", "raise"):
        raise ValueError(f"on_unmapped must be 'drop' or 'raise', got {on_unmapped!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    year_filter = _year_filter(years)
    if current_year is not None:
        if isinstance(current_year, bool) or not isinstance(current_year, int | np.integer):
            raise ValueError(f"current_year must be an integer year, got {current_year!r}")
        if not 1000 <= int(current_year) <= 3000:
            raise ValueError(f"current_year must be within 1000-3000, got {current_year}")
    path = Path(path)
    roles = {"person": person, "start": start, "end": end, "occ": occ}
    if education is not None:
        roles["education"] = education
    if location is not None:
        roles["location"] = location
    columns = list(dict.fromkeys(roles.values()))

    is_csv, batches = _open(path, columns, int(batch_size))
    spells = _Spells(path, roles, frame, is_csv)
    for batch in batches:
        spells.add(batch)
    return spells.finish(
        rule=rule,
        year_filter=year_filter,
        variant=variant,
        on_unmapped=on_unmapped,
        current_year=None if current_year is None else int(current_year),
        name=name if name is not None else _stem(path),
    )


# ---------------------------------------------------------------------- reading
def _stem(path: Path) -> str:
    stem = path.name
    for suffix in (".gz", ".bz2", ".zst", ".lz4"):
        stem = stem.removesuffix(suffix)
    return Path(stem).stem


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    names = [s.lower() for s in path.suffixes]
    if any(s in (".csv", ".tsv", ".txt", ".tab") for s in names):
        return False
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _open(path: Path, columns: list[str], batch_size: int) -> tuple[bool, Iterator[pa.RecordBatch]]:
    """Check the file and its columns; return whether it is a CSV and its batches of ``columns``."""
    if not path.exists():
        raise FileNotFoundError(f"resume file {path} does not exist")
    if path.is_dir():
        raise ResumeFormatError(f"{path}: is a directory, not a CSV or parquet file", path=path)
    if path.stat().st_size == 0:
        raise ResumeFormatError(f"{path}: empty file (no header, no spells)", path=path)
    if _is_parquet(path):
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as err:
            raise ResumeFormatError(f"{path}: not a readable parquet file ({err})", path=path) from err
        _check_columns(path, parquet.schema_arrow.names, columns)
        if parquet.metadata.num_rows == 0:
            raise ResumeFormatError(f"{path}: no spells (the file has no rows)", path=path)
        return False, parquet.iter_batches(batch_size=batch_size, columns=columns)
    suffixes = [s.lower() for s in path.suffixes]
    parse = pacsv.ParseOptions(delimiter="\t" if (".tsv" in suffixes or ".tab" in suffixes) else ",")
    try:
        probe = pacsv.open_csv(path, parse_options=parse)
        header = probe.schema.names
        probe.close()
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            raise ResumeFormatError(f"{path}: empty file (no header, no spells)", path=path) from err
        raise ResumeFormatError(f"{path}: cannot parse CSV ({err})", path=path) from err
    _check_columns(path, header, columns)
    return True, _csv_batches(path, columns, batch_size, parse)


def _csv_batches(
    path: Path, columns: list[str], batch_size: int, parse: pacsv.ParseOptions
) -> Iterator[pa.RecordBatch]:
    """CSV record batches of at most ``batch_size`` rows, every column read as text."""
    read = pacsv.ReadOptions(block_size=int(min(max(batch_size * 128, 1 << 20), 1 << 28)))
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns}, include_columns=columns, strings_can_be_null=True
    )
    n_rows = 0
    try:
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        for block in reader:
            for offset in range(0, block.num_rows, batch_size):
                piece = block.slice(offset, batch_size)
                n_rows += piece.num_rows
                yield piece
    except pa.ArrowInvalid as err:
        raise ResumeFormatError(f"{path}: cannot parse CSV after data row {n_rows} ({err})", path=path) from err
    if n_rows == 0:
        raise ResumeFormatError(f"{path}: no spells (the file has a header only)", path=path)


def _check_columns(path: Path, present: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise ResumeFormatError(
            f"{path}: column(s) {missing} not found; the file has columns {present}", path=path, column=missing[0]
        )


# ---------------------------------------------------------------------- column parsers
def _plain_array(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array


def _is_text(array: pa.Array) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _blank_to_null(array: pa.Array) -> pa.Array:
    """Text trimmed, with empty strings as nulls."""
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(pc.utf8_length(trimmed), 0), pa.scalar(None, trimmed.type), trimmed)


def _null_mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _day_of(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid (year, month, day) triples."""
    months = (year.astype(np.int64) - 1970) * 12 + (month.astype(np.int64) - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + day.astype(np.int64) - 1


def _month_length(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    months = (year.astype(np.int64) - 1970) * 12 + (month.astype(np.int64) - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    nxt = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return nxt - first


def _year_start(year: np.ndarray) -> np.ndarray:
    """Day number of 1 January of ``year``."""
    return (year.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _year_of(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _dates(array: pa.Array, *, is_end: bool) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers and a status per value: 0 valid, 1 missing, 2 unparseable (or outside 1000-3000)."""
    array = _plain_array(array)
    n = len(array)
    day = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        dates = pc.cast(array, pa.date32(), safe=False)
        missing = _null_mask(dates)
        day = np.asarray(pc.cast(dates, pa.int32()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        year = _year_of(day)
        status[(year < 1000) | (year > 3000)] = 2
        status[missing] = 1
        return day, status
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):  # whole years
        values = np.asarray(pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        missing = np.isnan(values)
        ok = ~missing & (values == np.floor(np.where(missing, 0, values))) & (values >= 1000) & (values <= 3000)
        year = np.where(ok, values, 2000).astype(np.int64)
        day = np.where(is_end, _year_start(year + 1) - 1, _year_start(year))
        status[~ok] = 2
        status[missing] = 1
        return day, status
    if not _is_text(array):
        array = pc.cast(array, pa.string())
    text = _blank_to_null(array)
    missing = _null_mask(text)
    parts = pc.extract_regex(text, _DATE_PATTERN)
    matched = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    fields = {}
    for key, field in zip(("y", "m", "d"), parts.flatten(), strict=True):  # flatten: offsets and nulls applied
        blank = pc.equal(pc.utf8_length(field), 0).fill_null(True)
        empty = np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)
        value = pc.cast(pc.if_else(blank, "0", field.fill_null("0")), pa.int64())
        fields[key] = (np.asarray(value.to_numpy(zero_copy_only=False), dtype=np.int64), empty)
    year, _ = fields["y"]
    month, no_month = fields["m"]
    dom, no_day = fields["d"]
    month = np.where(no_month, 12 if is_end else 1, month)
    ok = matched & (year >= 1000) & (year <= 3000) & (month >= 1) & (month <= 12)
    year = np.where(ok, year, 2000)
    month = np.where(ok, month, 1)
    length = _month_length(year, month)
    dom = np.where(no_day, length if is_end else 1, dom)
    ok &= (dom >= 1) & (dom <= length)
    day = np.where(ok, _day_of(year, month, np.where(ok, dom, 1)), 0)
    status[~ok] = 2
    status[missing] = 1
    return day, status


class _Spells:
    """Accumulates compact, valid spell records batch by batch, then builds the panel."""

    def __init__(self, path: Path, roles: dict[str, str], frame: str, is_csv: bool) -> None:
        self.path = path
        self.roles = roles
        self.frame = frame
        self.is_csv = is_csv
        self.n_rows = 0
        self.invalid = dict.fromkeys(_INVALID_REASONS, 0)
        self.invalid_rows: dict[str, list[int]] = {r: [] for r in _INVALID_REASONS}
        self.person: list[pa.Array] = []
        self.start: list[np.ndarray] = []
        self.end: list[np.ndarray] = []
        self.ongoing: list[np.ndarray] = []
        self.code: list[np.ndarray] = []
        self.row: list[np.ndarray] = []
        self.covariates: dict[str, _Dictionary] = {
            role: _Dictionary() for role in ("education", "location") if role in roles
        }
        self.covariate_ids: dict[str, list[np.ndarray]] = {role: [] for role in self.covariates}

    # -------------------------------------------------------------- per batch
    def add(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        if n == 0:
            return
        rows = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        column = {
            role: _plain_array(batch.column(batch.schema.get_field_index(name))) for role, name in self.roles.items()
        }
        person, no_person = self._person(column["person"], rows)
        start_day, start_status = _dates(column["start"], is_end=False)
        end_day, end_status = _dates(column["end"], is_end=True)
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
            self._count_invalid(_INVALID_REASONS[k], rows[hit])
        valid = reason < 0
        keep = pa.array(valid)
        self.person.append(person.filter(keep))
        self.start.append(start_day[valid].astype(np.int32))  # days since 1970: int32 is plenty
        self.end.append(np.where(end_status == 1, 0, end_day)[valid].astype(np.int32))  # ongoing: set at the end
        self.ongoing.append((end_status == 1)[valid])
        self.code.append(code[valid])
        self.row.append(rows[valid])
        for role, dictionary in self.covariates.items():
            self.covariate_ids[role].append(dictionary.encode(column[role])[valid].astype(np.int32))

    def _count_invalid(self, reason: str, rows: np.ndarray) -> None:
        self.invalid[reason] += len(rows)
        room = _EXAMPLES - len(self.invalid_rows[reason])
        if room > 0:
            self.invalid_rows[reason].extend(int(r) for r in rows[:room])

    def _where(self, rows: Any) -> str:
        rows = [int(r) for r in rows]
        shown = rows[:10]
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        lines = f" (CSV lines {[r + 2 for r in shown]})" if self.is_csv else ""
        return f"{len(rows)} row(s) {shown}{more}{lines}"

    def _person(self, array: pa.Array, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """Person keys as int64 or trimmed text, and which are missing."""
        column = self.roles["person"]
        if pa.types.is_integer(array.type):
            return pc.cast(array, pa.int64()), _null_mask(array)
        if pa.types.is_floating(array.type):
            values = np.asarray(pc.cast(array, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False))
            fractional = (values != np.floor(values)) & ~_null_mask(array)
            if fractional.any():
                raise ResumeFormatError(
                    f"{self.path}: non-integer numeric person key in column {column!r} at "
                    f"{self._where(rows[fractional])}",
                    path=self.path,
                    column=column,
                    rows=rows[fractional],
                )
            return pc.cast(array, pa.int64(), safe=False), _null_mask(array)
        if not _is_text(array):
            array = pc.cast(array, pa.string())
        text = pc.cast(_blank_to_null(array), pa.large_string())
        return text, _null_mask(text)

    def _codes(self, array: pa.Array, rows: np.ndarray) -> np.ndarray:
        """Codes as float64 (NaN when blank); text that is not a number and fractions raise."""
        column = self.roles["occ"]
        if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
            values = np.asarray(pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        else:
            if not _is_text(array):
                array = pc.cast(array, pa.string())
            text = _blank_to_null(array)
            numeric = pc.match_substring_regex(text, _NUMBER_PATTERN)
            bad = np.asarray(pc.invert(numeric).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
            if bad.any():
                first = text[int(np.flatnonzero(bad)[0])].as_py()
                raise ResumeFormatError(
                    f"{self.path}: non-numeric {self.frame} code(s) in column {column!r}, e.g. {first!r}, at "
                    f"{self._where(rows[bad])}; codes must be numbers (blank for missing)",
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
                f"{float(values[bad][0])!r}, at {self._where(rows[bad])}",
                path=self.path,
                column=column,
                rows=rows[bad],
            )
        return values.astype(np.float64)

    # -------------------------------------------------------------- after the last batch
    def finish(
        self,
        *,
        rule: str,
        year_filter: tuple[str, Any] | None,
        variant: Variant,
        on_unmapped: OnUnmapped,
        current_year: int | None,
        name: str,
    ) -> CareerPanel:
        start = np.concatenate(self.start) if self.start else np.zeros(0, np.int64)
        end = np.concatenate(self.end) if self.end else np.zeros(0, np.int64)
        ongoing = np.concatenate(self.ongoing) if self.ongoing else np.zeros(0, bool)
        code = np.concatenate(self.code) if self.code else np.zeros(0)
        row = np.concatenate(self.row) if self.row else np.zeros(0, np.int64)
        cov_ids = {role: np.concatenate(ids) for role, ids in self.covariate_ids.items()}
        person_values, person_key = _persons(self.person)
        self.person = []

        # ongoing spells end on 31 December of current_year, or at the latest date in the file
        if current_year is not None:
            ceiling = int(_year_start(np.array([current_year + 1]))[0] - 1)
            late = ongoing & (start > ceiling)
            self._count_invalid(_INVALID_REASONS[5], row[late])
            if late.any():
                keep = ~late
                start, end, ongoing, code, row = start[keep], end[keep], ongoing[keep], code[keep], row[keep]
                person_values, person_key = person_values[keep], person_key[keep]
                cov_ids = {role: ids[keep] for role, ids in cov_ids.items()}
        elif len(start):
            ceiling = int(max(start.max(), end[~ongoing].max(initial=start.max())))
        else:
            ceiling = 0
        end = np.where(ongoing, ceiling, end)
        n_invalid = sum(self.invalid.values())
        if len(start) == 0:
            counts = {r: c for r, c in self.invalid.items() if c}
            first = next(r for r, c in self.invalid.items() if c)
            role = _REASON_ROLE[first]
            raise ResumeFormatError(
                f"{self.path}: none of the {self.n_rows} spell(s) is valid: {counts}; e.g. {first} at "
                f"{self._where(self.invalid_rows[first])}",
                path=self.path,
                column=self.roles[role],
                rows=self.invalid_rows[first],
            )

        # exact duplicates: same parsed spell as an earlier row
        key = pd.DataFrame({"p": person_key, "s": start, "e": end, "o": ongoing, "c": code, **cov_ids})
        duplicate = key.duplicated(keep="first").to_numpy()
        del key

        # one candidate per (spell, calendar year)
        first_year = _year_of(start)
        n_years = _year_of(end) - first_year + 1
        rows_read = n_invalid + int(n_years.sum())
        lineage = Lineage(source=str(self.path), rows_read=rows_read, unit=LINEAGE_UNIT)
        for reason in _INVALID_REASONS:
            lineage.drop("read", reason, self.invalid[reason], rows=self.invalid_rows[reason])
        lineage.drop(
            "spells",
            "exact duplicate of an earlier spell",
            int(n_years[duplicate].sum()),
            spells=int(duplicate.sum()),
            rows=row[duplicate][:_EXAMPLES].tolist(),
        )
        live = np.flatnonzero(~duplicate)
        spell = np.repeat(live, n_years[live])
        offsets = np.cumsum(n_years[live]) - n_years[live]
        year = (first_year[spell] + (np.arange(len(spell)) - np.repeat(offsets, n_years[live]))).astype(np.int32)
        del offsets
        if year_filter is not None:
            inside = _in_years(year, year_filter)
            lineage.drop("years", f"year outside years={_describe_years(year_filter)}", int((~inside).sum()))
            spell, year = spell[inside], year[inside]

        # rank the candidates of each person-year under the rule; candidates are in file order, so a
        # stable sort breaks the last ties by the earlier row
        order, group = _rank_order(rule, person_key[spell], year, start[spell], end[spell])
        priority = np.empty(len(spell), dtype=np.int32)
        priority[order] = _ranks(group[order])

        # which candidate harmonize keeps: the best-ranked one whose code maps
        maps, unmapped = self._mapping(code, variant)
        reaching = np.zeros(len(code), dtype=bool)
        reaching[spell] = True
        if on_unmapped == "raise" and (unmapped & reaching).any():
            self._raise_unmapped(code, row, np.flatnonzero(unmapped & reaching), variant)
        mapped_order = order[maps[spell[order]]]
        del order
        chosen = mapped_order[_ranks(group[mapped_order]) == 0]
        del mapped_order, group

        n = len(spell)
        candidates = pd.DataFrame(
            {
                "person_id": _take_persons(person_values, spell),
                "year": year,
                "variable": pd.Series(_constant(self.roles["occ"], n), dtype=object),
                "frame": pd.Series(_constant(self.frame, n), dtype=object),
                "code": code[spell],
                "priority": priority,
            }
        )
        covariates = None
        if self.covariates:
            index = pd.MultiIndex.from_arrays(
                [np.asarray(_take_persons(person_values, spell[chosen])), year[chosen]],
                names=["person_id", "year"],
            )
            covariates = pd.DataFrame(
                {role: dictionary.values(cov_ids[role][spell[chosen]]) for role, dictionary in self.covariates.items()},
                index=index,
            )
        del spell, year, priority, start, end, ongoing, row, person_key, person_values, cov_ids
        metadata = {
            "source": "resumes",
            "path": str(self.path),
            "frame": self.frame,
            "rule": rule,
            "years": None if year_filter is None else _describe_years(year_filter),
            "ongoing_until": str(np.datetime64(ceiling, "D")),
            "current_year": current_year,
            "columns": dict(self.roles),
        }
        panel = harmonize(
            candidates,
            source=str(self.path),
            variant=variant,
            on_unmapped=on_unmapped,
            covariates=covariates,
            name=name,
            metadata=metadata,
            lineage=lineage,
        )
        if len(panel) != len(chosen):  # pragma: no cover - guards the agreement with harmonize's rules
            raise AssertionError(
                f"read_resumes: harmonize kept {len(panel)} person-years, the reader expected {len(chosen)}"
            )
        return panel

    def _mapping(self, code: np.ndarray, variant: Variant) -> tuple[np.ndarray, np.ndarray]:
        """Per spell: whether its code yields a state (as in :func:`harmonize`), and whether it is unmapped."""
        outcome = crosswalk(self.frame, variant).apply(code).outcome  # type: ignore[arg-type]
        return outcome == MAPPED, outcome == UNMAPPED

    def _raise_unmapped(self, code: np.ndarray, row: np.ndarray, spells: np.ndarray, variant: str) -> None:
        codes = code[spells].astype(np.int64)
        uniq, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
        by_code = spells[np.argsort(inverse, kind="stable")]  # file order within each code
        starts = np.cumsum(counts) - counts
        examples = [row[by_code[a : a + min(k, 20)]].tolist() for a, k in zip(starts, counts, strict=True)]
        table = pd.DataFrame({"code": uniq, "count": counts.astype(np.int64), "rows": examples})
        table = table.sort_values(["count", "code"], ascending=[False, True], ignore_index=True)
        listing = ", ".join(f"{c} ({k}x)" for c, k in zip(table["code"][:10], table["count"][:10], strict=True))
        column = self.roles["occ"]
        raise UnmappedCodeError(
            f"{self.path}: {len(table)} {self.frame} code(s) in column {column!r} do not map to occ1990dd "
            f"({variant}): {listing}; code {table['code'].iloc[0]} at {self._where(table['rows'].iloc[0])}",
            table,
        )


class _Dictionary:
    """Distinct values of a covariate across batches; each batch is encoded as indices into them."""

    def __init__(self) -> None:
        self._values: pa.Array | None = None

    def encode(self, array: pa.Array) -> np.ndarray:
        array = _plain_array(array)
        if _is_text(array):
            array = pc.cast(_blank_to_null(array), pa.large_string())
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
        if _is_text(self._values):
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


def _persons(chunks: list[pa.Array]) -> tuple[Any, np.ndarray]:
    """Person values per spell (int64 array, or text keys as :class:`_TextPersons`) and a dense int64
    key per spell (0, 1, ... in order of first appearance) for grouping.

    Text keys that are all canonical integers (``"12"``, not ``"012"``) become integers.
    """
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    combined = pa.chunked_array(chunks).combine_chunks()
    if _is_text(combined):
        if len(combined) and pc.all(pc.match_substring_regex(combined, _CANONICAL_INT_PATTERN)).as_py():
            combined = pc.cast(combined, pa.int64())
        else:
            encoded = combined.dictionary_encode()
            keys = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            labels = pd.Index(np.asarray(encoded.dictionary.to_pylist(), dtype=object), dtype=object)
            return _TextPersons(labels, keys), keys
    values = np.asarray(combined.to_numpy(zero_copy_only=False), dtype=np.int64)
    return values, pd.factorize(values)[0].astype(np.int64)


class _TextPersons:
    """Text person keys as (labels, per-spell index into labels); indexable like an array."""

    def __init__(self, labels: pd.Index, keys: np.ndarray) -> None:
        self.labels = labels
        self.keys = keys

    def __getitem__(self, mask: Any) -> _TextPersons:
        return _TextPersons(self.labels, self.keys[mask])

    def __len__(self) -> int:
        return len(self.keys)


def _take_persons(values: Any, spells: np.ndarray) -> Any:
    if isinstance(values, _TextPersons):
        return pd.Categorical.from_codes(values.keys[spells], categories=values.labels)
    return values[spells]


def _rank_order(
    rule: str, person: np.ndarray, year: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates sorted by person-year, then by the rule (best first), then by file order (stable sort).

    Returns the order and a person-year key per candidate (dense person key x year).
    """
    if len(year) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo = int(year.min())
    jan1 = _year_start(np.arange(lo, int(year.max()) + 2))
    first_day, last_day = jan1[year - lo], jan1[year - lo + 1] - 1
    held_to = np.minimum(end, last_day)
    if rule == "longest":  # days held in the year (1-366): more is better
        worse = 366 - (held_to - np.maximum(start, first_day) + 1)
    else:  # last day held in the year (day 0-365 of the year): later is better
        worse = 365 - (held_to - first_day)
    del held_to, first_day, last_day
    later_start = int(start.max()) - start  # later start is better; < 2**20 days (years 1000-3000)
    group = person * (int(year.max()) - lo + 1) + (year - lo)
    if int(group.max()) < 2**34:  # one int64 key: person-year (34 bits), rule (9 bits), start (20 bits)
        order = np.argsort((group << 29) | (worse << 20) | later_start, kind="stable")
    else:  # pragma: no cover - more than ~10 million persons x 1,700 years
        order = np.lexsort((later_start, worse, group))
    return order, group


def _constant(value: str, n: int) -> np.ndarray:
    """An object array of ``n`` references to one string (``np.full`` would copy the string ``n`` times)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _ranks(key: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal keys (``key`` sorted)."""
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    first = np.ones(n, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return (np.arange(n) - starts).astype(np.int32)


def _year_filter(years: Any) -> tuple[str, Any] | None:
    if years is None:
        return None
    if isinstance(years, tuple) and len(years) == 2 and not isinstance(years, range):
        first, last = (int(y) for y in years)
        if first > last:
            raise ValueError(f"years=(first, last) needs first <= last, got {years}")
        return ("range", (first, last))
    if isinstance(years, int | np.integer) and not isinstance(years, bool):
        return ("set", np.array([int(years)], dtype=np.int64))
    values = np.array(sorted({int(y) for y in years}), dtype=np.int64)
    if len(values) == 0:
        raise ValueError("years is empty")
    return ("set", values)


def _in_years(year: np.ndarray, year_filter: tuple[str, Any]) -> np.ndarray:
    kind, value = year_filter
    if kind == "range":
        return (year >= value[0]) & (year <= value[1])
    return np.isin(year, value)


def _describe_years(year_filter: tuple[str, Any]) -> str:
    kind, value = year_filter
    if kind == "range":
        return f"{value[0]}-{value[1]}"
    values = [int(v) for v in value]
    return ",".join(str(v) for v in values[:20]) + ("..." if len(values) > 20 else "")
