"""Resume job spells -> a harmonised panel of occupations (one state per person-year).

:func:`read_resumes` reads job spells (person, start date, end date, occupation
code, optional education and location) from CSV or parquet files in batches,
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
Files
    The input is a file, a directory (its CSV, TSV and parquet files,
    recursively, in name order), a glob pattern (``"spells/part-*.csv"``) or a
    list of these; the files are read in that order as one input.
Rows and missing values
    Row numbers in messages and in the lineage are 0-based positions among the
    data rows of the file (header excluded; line ``row + 2`` of a CSV without
    embedded newlines); over several files they run on from one file to the
    next (``panel.metadata["files"]`` gives each file's first row, and messages
    name the file and its own row). In a CSV every column is read as text; blank cells and
    pyarrow's null markers (``NA``, ``N/A``, ``NULL``, ``NaN``, ``null``, ...)
    are missing, and surrounding spaces are ignored. Text person keys that are
    all canonical integers (``"12"``, not ``"012"``) become integers; otherwise
    they stay text. A parquet file keeps its column types.

Engines
-------
``engine="memory"`` (the default) builds the panel in memory as described
below. ``engine="duckdb"`` (and :func:`write_resumes`, which writes a
partitioned panel dataset instead of returning a panel) applies the same rules
out of core (:mod:`laborseq.sources.resumes.out_of_core`): memory is bounded
by ``memory_limit``, not by the corpus. Both engines give the identical panel
and lineage.

Memory
------
With ``engine="memory"`` the file is read ``batch_size`` rows at a time (``pyarrow.parquet.ParquetFile.
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
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np

from laborseq.occupations.crosswalk import FRAMES, OnUnmapped
from laborseq.occupations.occ1990dd import Variant, check_variant
from laborseq.panel import CareerPanel
from laborseq.sources.resumes.out_of_core import EngineSettings, ResumeDataset, write_dataset
from laborseq.sources.resumes.person_years import RULES, ResumeRules, Rule, build_panel, parse_year_filter
from laborseq.sources.resumes.spell_files import SpellInput, input_stem, read_spells

Engine = Literal["memory", "duckdb"]
ENGINES: tuple[str, ...] = ("memory", "duckdb")


def read_resumes(
    path: SpellInput,
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
    engine: Engine = "memory",
    memory_limit: str = "2GB",
    temp_directory: str | os.PathLike[str] | None = None,
) -> CareerPanel:
    """Read job spells from CSV or parquet files into an occ1990dd panel, one state per person-year.

    See the module documentation for the rules (dates, ongoing spells, the
    choice of one job per year, covariates, lineage and memory).

    Parameters
    ----------
    path : path-like, glob pattern, or a list of them
        CSV (``.csv``, ``.tsv``, optionally compressed, e.g. ``.csv.gz``) or
        parquet files (``.parquet``, ``.pq``; other names are sniffed): a file,
        a directory of them, a pattern, or a list.
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
        date of a valid spell).
    name : str, optional
        Panel name (default: the file name without suffix).
    engine : {"memory", "duckdb"}
        ``"duckdb"`` applies the rules out of core (see :func:`write_resumes`)
        and reads the result back; the panel and lineage are identical.
    memory_limit, temp_directory
        With ``engine="duckdb"``: see :func:`write_resumes`.

    Returns
    -------
    CareerPanel
        In occ1990dd of ``variant``, with ``panel.lineage`` (unit
        ``"spell-year"``) and ``panel.metadata`` recording the rule and columns.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist (or a directory or pattern holds no file).
    ResumeFormatError
        On an empty file, a file without spells, missing columns, non-numeric or
        non-integer codes, or when no spell is valid.
    UnmappedCodeError
        With ``on_unmapped="raise"``, when codes do not map.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    roles, rules = _checked(
        path, person, start, end, occ, frame, education, location, rule, years, variant, on_unmapped, current_year, name
    )
    batch_size = _checked_batch_size(batch_size)
    if engine == "memory":
        return build_panel(read_spells(path, roles, frame, batch_size), rules)
    settings = EngineSettings(memory_limit=memory_limit, temp_directory=temp_directory)
    parent = Path(temp_directory) if temp_directory is not None else None
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="laborseq-resumes-", dir=parent) as tmp:
        return write_dataset(path, Path(tmp) / "panel", roles, frame, rules, batch_size, settings).read()


def write_resumes(
    path: SpellInput,
    out: str | os.PathLike[str],
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
    memory_limit: str = "2GB",
    temp_directory: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    rows_per_file: int = 2_000_000,
) -> ResumeDataset:
    """Harmonise job spells of any size out of core (DuckDB) into a partitioned panel dataset on disk.

    The rules and the lineage are those of :func:`read_resumes` (the same
    parameters mean the same), applied by
    :mod:`~laborseq.sources.resumes.out_of_core`. The result is a directory of
    panel files (whole persons per file, in person order) that
    :func:`~laborseq.panel.chunks.read_parquet_chunks`,
    :func:`~laborseq.nn.token_store.write_token_store` and ``laborseq pretrain
    --data`` read, plus ``lineage.json``.

    Parameters
    ----------
    path, person, start, end, occ, frame, education, location, rule, years, variant, on_unmapped, batch_size,
    current_year, name
        As in :func:`read_resumes`.
    out : path-like
        The output directory; it appears (or replaces an existing one) only when complete.
    memory_limit : str
        DuckDB's memory limit, e.g. ``"2GB"``; past it DuckDB spills to disk.
        Peak memory is this plus the reader's batches (``batch_size`` rows).
    temp_directory : path-like, optional
        Where the work files go (parsed spells, DuckDB's database and spill
        files; about the size of the input as parquet, and more while DuckDB
        spills); default: next to ``out``. Removed at the end.
    threads : int, optional
        DuckDB's threads (default: all cores).
    rows_per_file : int
        Person-years per output file.

    Returns
    -------
    ResumeDataset
        The directory, its files, the lineage and the counts.
    """
    roles, rules = _checked(
        path, person, start, end, occ, frame, education, location, rule, years, variant, on_unmapped, current_year, name
    )
    settings = EngineSettings(
        memory_limit=memory_limit, temp_directory=temp_directory, threads=threads, rows_per_file=rows_per_file
    )
    return write_dataset(path, out, roles, frame, rules, _checked_batch_size(batch_size), settings)


def _checked(
    path: SpellInput,
    person: str,
    start: str,
    end: str,
    occ: str,
    frame: str,
    education: str | None,
    location: str | None,
    rule: str,
    years: tuple[int, int] | Iterable[int] | None,
    variant: str,
    on_unmapped: str,
    current_year: int | None,
    name: str | None,
) -> tuple[dict[str, str], ResumeRules]:
    """The column roles and the checked rules of a read."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if frame not in FRAMES:
        raise ValueError(f"unknown occupation frame {frame!r}; choose from {FRAMES}")
    variant = check_variant(variant)
    if on_unmapped not in ("drop", "raise"):
        raise ValueError(f"on_unmapped must be 'drop' or 'raise', got {on_unmapped!r}")
    year_filter = parse_year_filter(years)
    if current_year is not None:
        if isinstance(current_year, bool) or not isinstance(current_year, int | np.integer):
            raise ValueError(f"current_year must be an integer year, got {current_year!r}")
        if not 1000 <= int(current_year) <= 3000:
            raise ValueError(f"current_year must be within 1000-3000, got {current_year}")
    roles = {"person": person, "start": start, "end": end, "occ": occ}
    if education is not None:
        roles["education"] = education
    if location is not None:
        roles["location"] = location
    rules = ResumeRules(
        rule=rule,
        year_filter=year_filter,
        variant=variant,
        on_unmapped=on_unmapped,  # type: ignore[arg-type]
        current_year=None if current_year is None else int(current_year),
        name=name if name is not None else input_stem(path),
    )
    return roles, rules


def _checked_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)
