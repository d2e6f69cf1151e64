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

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from laborseq.occupations.crosswalk import FRAMES, OnUnmapped
from laborseq.occupations.occ1990dd import Variant, check_variant
from laborseq.panel import CareerPanel
from laborseq.sources.resumes.person_years import RULES, Rule, build_panel, parse_year_filter
from laborseq.sources.resumes.spells import ResumeFormatError, SpellRecords

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


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
    year_filter = parse_year_filter(years)
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
    spells = SpellRecords(path, roles, frame, is_csv)
    for batch in batches:
        spells.add(batch)
    return build_panel(
        spells,
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
