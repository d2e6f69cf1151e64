"""The out-of-core resume engine: spells to a partitioned panel dataset through DuckDB, on disk.

:func:`~laborseq.sources.resumes.reader.write_resumes` runs it. It applies the
rules of :mod:`~laborseq.sources.resumes.reader` in three phases, and no phase
holds the corpus in memory:

1. **Parse.** Every input file is read ``batch_size`` rows at a time and
   parsed by the same code as the in-memory engine
   (:class:`~laborseq.sources.resumes.spells.SpellRecords`); each batch's valid
   spells go straight to a parquet file in a work directory.
2. **Rules, in DuckDB.** A DuckDB database in the work directory (its memory
   bounded by ``memory_limit``, spilling to ``temp_directory``) finds exact
   duplicates, counts each code's spell-years, expands the spells whose code
   maps into spell-years and keeps, per person-year, the candidate the rule
   ranks first. The lineage is computed from the same counts, by the same
   functions as the in-memory engine
   (:func:`~laborseq.sources.harmonize.record_crosswalk` for the crosswalk
   steps), so both engines give the identical panel and lineage.
3. **Write.** The person-years are streamed in (person, year) order into
   panel files ``part-00000.parquet``, ... of about ``rows_per_file`` rows
   (whole persons per file), each a :class:`~laborseq.panel.CareerPanel` file
   with the lineage in its metadata, plus ``lineage.json``. The directory
   appears only when complete.

The work directory (parsed spells, the database, DuckDB's spill files) is
removed at the end, also on error.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq._util.dates import year_start
from laborseq._util.io import atomic_directory
from laborseq.occupations.crosswalk import NOT_IN_FRAME, UNMAPPED, crosswalk
from laborseq.occupations.occ1990dd import occ1990dd
from laborseq.panel import CareerPanel
from laborseq.panel.chunks import read_panel_dataset
from laborseq.panel.lineage import Lineage
from laborseq.panel.parquet import write_table_atomic
from laborseq.sources.harmonize import record_crosswalk
from laborseq.sources.resumes.person_years import (
    CANONICAL_INT_PATTERN,
    ResumeRules,
    drop_outside_years,
    no_valid_spells,
    spell_lineage,
    unmapped_spells_error,
)
from laborseq.sources.resumes.spell_files import SpellInput, read_spells
from laborseq.sources.resumes.spells import EXAMPLES, INVALID_REASONS, ResumeFormatError, SpellRecords

MAX_ROWS = 2**33
"""Input rows the engine's rank key can tell apart (33 bits of file row)."""

LATER_START_BASE = 400_000
"""``LATER_START_BASE - start`` ranks later starts first; day numbers of years 1000-3000 lie within ±380,000."""


@dataclass(frozen=True)
class EngineSettings:
    """Resources of the out-of-core engine.

    Attributes
    ----------
    memory_limit : str
        DuckDB's memory limit (``"2GB"``, ``"500MB"``); past it DuckDB spills to disk.
    temp_directory : path-like, optional
        Where the work directory (parsed spells, database, spill files) goes;
        default: next to the output.
    threads : int, optional
        DuckDB's threads (default: all cores).
    rows_per_file : int
        Person-years per output file (whole persons, so a file may hold a few more).
    """

    memory_limit: str = "2GB"
    temp_directory: str | os.PathLike[str] | None = None
    threads: int | None = None
    rows_per_file: int = 2_000_000

    def __post_init__(self) -> None:
        _checked_size(self.memory_limit)
        if self.rows_per_file < 1:
            raise ValueError(f"rows_per_file must be at least 1, got {self.rows_per_file}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")


@dataclass(frozen=True)
class ResumeDataset:
    """A panel dataset written by :func:`~laborseq.sources.resumes.reader.write_resumes`.

    Attributes
    ----------
    path : pathlib.Path
        The directory of panel files (``read_parquet_chunks`` and
        ``write_token_store`` read it).
    files : list of pathlib.Path
        Its panel files, in person order.
    lineage : Lineage
        What happened to every spell-year.
    n_rows, n_persons : int
        Person-years and persons written.
    """

    path: Path
    files: list[Path]
    lineage: Lineage
    n_rows: int
    n_persons: int

    def read(self) -> CareerPanel:
        """The whole dataset as one in-memory panel (for inputs that fit in memory)."""
        return read_panel_dataset(self.path)


def write_dataset(
    path: SpellInput,
    out: str | os.PathLike[str],
    roles: dict[str, str],
    frame: str,
    rules: ResumeRules,
    batch_size: int,
    settings: EngineSettings,
) -> ResumeDataset:
    """Run the three phases (see the module documentation) and return the dataset written to ``out``."""
    out = Path(out)
    parent = Path(settings.temp_directory) if settings.temp_directory is not None else out.parent
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".laborseq-resumes-", dir=parent))
    try:
        spill = _SpellSpill(work / "spells")
        records = read_spells(path, roles, frame, batch_size, sink=spill)
        if records.n_valid == 0:
            raise no_valid_spells(records)
        if records.n_rows >= MAX_ROWS:  # pragma: no cover - 8.6 billion spells
            raise ResumeFormatError(
                f"{records.path}: {records.n_rows:,} rows; the out-of-core engine ranks at most {MAX_ROWS:,} "
                "(split the input and harmonise the parts)",
                path=records.path,
            )
        with _connect(work, settings) as con:
            engine = _Engine(con, records, rules, spill.files)
            return engine.write(out, settings.rows_per_file)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _SpellSpill:
    """The sink of phase 1: each batch's valid spells to its own parquet file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        self.files: list[Path] = []

    def __call__(self, spells: dict[str, Any]) -> None:
        if len(spells["row"]) == 0:
            return
        columns = {
            "person": spells["person"],
            "start": spells["start"],
            "end": spells["end"],
            "ongoing": spells["ongoing"],
            "code": pa.array(spells["code"], from_pandas=True),  # NaN (blank) -> null
            "row": spells["row"],
        }
        for role in ("education", "location"):
            if role in spells:
                columns[role] = spells[role]
        file = self.directory / f"spells-{len(self.files):06d}.parquet"
        pq.write_table(pa.table(columns), file)
        self.files.append(file)


@contextmanager
def _connect(work: Path, settings: EngineSettings) -> Iterator[Any]:
    """A DuckDB connection on a database file in ``work``, with the settings applied; closed on exit."""
    import duckdb  # noqa: PLC0415 - deferred: importing DuckDB costs time the in-memory engine does not need

    con = duckdb.connect(str(work / "engine.duckdb"))
    try:
        con.sql(f"SET memory_limit = '{_checked_size(settings.memory_limit)}'")
        con.sql(f"SET temp_directory = '{_sql_text(str(work / 'duckdb-spill'))}'")
        con.sql("SET preserve_insertion_order = false")
        con.sql("SET enable_progress_bar = false")  # a library prints nothing
        if settings.threads is not None:
            con.sql(f"SET threads = {int(settings.threads)}")
        yield con
    finally:
        con.close()


class _Engine:
    """Phase 2 and 3 on one connection: the rules in SQL, the lineage, the panel files."""

    def __init__(self, con: Any, records: SpellRecords, rules: ResumeRules, spill: list[Path]) -> None:
        self.con = con
        self.records = records
        self.rules = rules
        self.covariates = list(records.covariates)
        self.scheme = occ1990dd(rules.variant)
        files = ", ".join(f"'{_sql_text(str(file))}'" for file in spill)  # a list, not a pattern: no glob syntax
        con.sql(f"CREATE VIEW raw AS SELECT * FROM read_parquet([{files}], union_by_name = true)")
        self.person = self._person_expression()

    # ------------------------------------------------------------------ the rules
    def _person_expression(self) -> str:
        """Text person keys that are all canonical integers become integers, as in the in-memory engine."""
        kind = self.con.sql("SELECT typeof(person) FROM raw LIMIT 1").fetchall()[0][0]
        if kind != "VARCHAR":
            return "CAST(person AS BIGINT)"
        pattern = _sql_text(CANONICAL_INT_PATTERN.strip("^$"))
        (all_integers,) = self.con.sql(f"SELECT bool_and(regexp_full_match(person, '{pattern}')) FROM raw").fetchall()[
            0
        ]
        return "CAST(person AS BIGINT)" if all_integers else "person"

    def _ceiling(self) -> tuple[int, str]:
        """The day ongoing spells run to, and the SQL condition of the spells that stay valid."""
        if self.rules.current_year is None:
            max_start, max_end = self.con.sql(
                'SELECT max(start), max("end") FILTER (WHERE NOT ongoing) FROM raw'
            ).fetchall()[0]
            return self.rules.ceiling(int(max_start), None if max_end is None else int(max_end)), "TRUE"
        ceiling = self.rules.ceiling(0, None)
        late = f"ongoing AND start > {ceiling}"
        (count,) = self.con.sql(f"SELECT count(*) FROM raw WHERE {late}").fetchall()[0]
        if count:
            rows = self._column(f"SELECT row FROM raw WHERE {late} ORDER BY row LIMIT {EXAMPLES}")
            self.records.count_invalid(INVALID_REASONS[5], rows, count=count)
            if count == self.records.n_valid:
                raise no_valid_spells(self.records)
        return ceiling, f"NOT ({late})"

    def _spells(self) -> None:
        """Table ``spells``: valid spells with their end day, years, years inside ``years=``, duplicate flag."""
        ceiling, valid = self._ceiling()
        self.ceiling = ceiling
        keys = ", ".join(["person", "start", "stop", "ongoing", "code", *self.covariates])
        covariates = "".join(f", {c}" for c in self.covariates)
        self.con.sql(
            f"""
            CREATE TABLE spells AS
            SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY row) > 1 AS duplicate,
                   {self._years_inside()} AS n_in
            FROM (
                SELECT {self.person} AS person, start, stop, ongoing, code, row{covariates},
                       year(DATE '1970-01-01' + start) AS y0, year(DATE '1970-01-01' + stop) AS y1
                FROM (SELECT *, CASE WHEN ongoing THEN {ceiling} ELSE "end" END AS stop FROM raw WHERE {valid})
            )
            """
        )

    def _column(self, sql: str) -> list[int]:
        """The first column of a query's rows, as integers."""
        return [int(r[0]) for r in self.con.sql(sql).fetchall()]

    def _years_inside(self) -> str:
        """SQL: a spell's years (``y0`` to ``y1``) inside ``years=``."""
        year_filter = self.rules.year_filter
        if year_filter is None:
            return "y1 - y0 + 1"
        kind, value = year_filter
        if kind == "range":
            return f"greatest(0, least(y1, {int(value[1])}) - greatest(y0, {int(value[0])}) + 1)"
        listed = ", ".join(str(int(v)) for v in value)
        return f"len(list_filter([{listed}], lambda x: x BETWEEN y0 AND y1))"

    def lineage(self) -> Lineage:
        """Build ``spells`` and the lineage of every step up to the choice of one candidate per person-year."""
        self._spells()
        spell_years, duplicate_years, duplicate_spells, inside = self.con.sql(
            """SELECT sum(y1 - y0 + 1), coalesce(sum(y1 - y0 + 1) FILTER (WHERE duplicate), 0),
                      count(*) FILTER (WHERE duplicate), coalesce(sum(n_in) FILTER (WHERE NOT duplicate), 0)
               FROM spells"""
        ).fetchall()[0]
        duplicate_rows = self._column(f"SELECT row FROM spells WHERE duplicate ORDER BY row LIMIT {EXAMPLES}")
        lineage = spell_lineage(self.records, spell_years, duplicate_years, duplicate_spells, duplicate_rows)
        drop_outside_years(lineage, self.rules.year_filter, spell_years - duplicate_years - inside)

        counts = self.con.sql(
            "SELECT code, sum(n_in) AS n FROM spells WHERE NOT duplicate AND n_in > 0 GROUP BY code ORDER BY code"
        ).to_arrow_table()
        code = counts.column("code").to_numpy(zero_copy_only=False).astype(float)  # null (blank) -> NaN
        n = counts.column("n").to_numpy(zero_copy_only=False).astype(np.int64)
        blank = np.isnan(code)
        lineage.drop("missing code", "missing value (blank)", int(n[blank].sum()))
        code, n = code[~blank], n[~blank]
        table = crosswalk(self.records.frame, self.rules.variant)
        record_crosswalk(lineage, table, self.records.frame, code, n)
        result = table.apply(code)
        self._raise_unmapped(code[(result.outcome == UNMAPPED) | (result.outcome == NOT_IN_FRAME)])
        kept = result.kept
        states = pa.table({"code": code[kept], "state": result.state_index[kept].astype(np.int32)})
        self.con.register("mapped_codes", states)
        self.con.sql("CREATE TABLE states AS SELECT * FROM mapped_codes")
        self.con.unregister("mapped_codes")
        self.n_mapped = int(n[kept].sum())
        return lineage

    def _raise_unmapped(self, codes: np.ndarray) -> None:
        if self.rules.on_unmapped != "raise" or len(codes) == 0:
            return
        listed = ", ".join(repr(float(c)) for c in codes)
        rows = self.con.sql(
            f"""SELECT code, count(*), list(row ORDER BY row)[1:20] FROM spells
                WHERE NOT duplicate AND n_in > 0 AND code IN ({listed}) GROUP BY code ORDER BY code"""
        ).fetchall()
        raise unmapped_spells_error(
            self.records,
            self.rules.variant,
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.int64),
            [list(r[2]) for r in rows],
        )

    def _choose(self) -> int:
        """Table ``chosen``: per person-year, the best-ranked candidate whose code maps; returns its rows."""
        lo, hi = self.con.sql("SELECT min(y0), max(y1) FROM spells WHERE NOT duplicate AND n_in > 0").fetchall()[0]
        years = np.arange(int(lo), int(hi) + 2) if lo is not None else np.arange(2000, 2002)  # no candidate
        jan1 = year_start(years)
        calendar = pa.table({"year": years[:-1], "first_day": jan1[:-1], "last_day": jan1[1:] - 1})
        self.con.register("calendar_arrow", calendar)
        self.con.sql("CREATE TABLE calendar AS SELECT * FROM calendar_arrow")
        self.con.unregister("calendar_arrow")
        if self.rules.rule == "longest":  # days held in the year: more is better
            worse = "366 - (least(c.stop, k.last_day) - greatest(c.start, k.first_day) + 1)"
        else:  # last day held in the year: later is better
            worse = "365 - (least(c.stop, k.last_day) - k.first_day)"
        # one BIGINT rank: rule (9 bits), later start (21 bits), file row (33 bits); the smallest wins
        key = f"(({worse}) * 2097152 + ({LATER_START_BASE} - c.start)) * {MAX_ROWS} + c.row"
        inside = self._year_condition("c.year")
        picks = ", ".join(f"arg_min(c.{name}, {key}) AS {name}" for name in ("state", *self.covariates))
        covariates = "".join(f", s.{c}" for c in self.covariates)
        self.con.sql(
            f"""
            CREATE TABLE chosen AS
            SELECT c.person, c.year, {picks}
            FROM (
                SELECT s.person, s.start, s.stop, s.row, m.state{covariates},
                       unnest(range(s.y0, s.y1 + 1)) AS year
                FROM spells s JOIN states m ON s.code = m.code
                WHERE NOT s.duplicate AND s.n_in > 0
            ) c JOIN calendar k ON c.year = k.year
            WHERE {inside}
            GROUP BY c.person, c.year
            """
        )
        (rows,) = self.con.sql("SELECT count(*) FROM chosen").fetchall()[0]
        return int(rows)

    def _year_condition(self, column: str) -> str:
        year_filter = self.rules.year_filter
        if year_filter is None:
            return "TRUE"
        kind, value = year_filter
        if kind == "range":
            return f"{column} BETWEEN {int(value[0])} AND {int(value[1])}"
        return f"{column} IN ({', '.join(str(int(v)) for v in value)})"

    # ------------------------------------------------------------------ the output
    def write(self, out: Path, rows_per_file: int) -> ResumeDataset:
        """Compute the lineage, choose the person-years and write the panel files to ``out``."""
        lineage = self.lineage()
        n_rows = self._choose()
        lineage.drop("one per year", "superseded by a higher-priority occupation variable", self.n_mapped - n_rows)
        lineage.check(n_rows)
        metadata = {
            **self.rules.metadata(self.records, self.ceiling),
            "lineage": lineage.to_dict(),
            "occ1990dd_variant": self.rules.variant,
        }
        files: list[Path] = []
        n_persons = 0
        with atomic_directory(out) as tmp:
            for index, part in enumerate(self._parts(rows_per_file)):
                panel = self._panel(part, metadata)
                n_persons += panel.n_persons
                files.append(write_table_atomic(panel.to_arrow(), tmp / f"part-{index:05d}.parquet"))
            (tmp / "lineage.json").write_text(lineage.to_json() + "\n", encoding="utf-8")
        files = [out / f.name for f in files]
        return ResumeDataset(path=out, files=files, lineage=lineage, n_rows=n_rows, n_persons=n_persons)

    def _parts(self, rows_per_file: int) -> Iterator[pd.DataFrame]:
        """The chosen person-years in (person, year) order: frames of whole persons, ``rows_per_file`` rows or more."""
        columns = ", ".join(["person", "year", "state", *self.covariates])
        reader = self.con.sql(f"SELECT {columns} FROM chosen ORDER BY person, year").to_arrow_reader(
            min(rows_per_file, 1_000_000)
        )
        carry: pd.DataFrame = reader.schema.empty_table().to_pandas()  # no person-year: one empty file
        written = 0
        for batch in reader:
            frame = pd.concat([carry, batch.to_pandas()], ignore_index=True) if len(carry) else batch.to_pandas()
            while len(frame) > rows_per_file:  # cut at the first new person from row rows_per_file on
                persons = frame["person"].to_numpy()
                change = np.flatnonzero(persons[rows_per_file:] != persons[rows_per_file - 1 : -1])
                if len(change) == 0:
                    break  # the last person may go on in the next batch
                cut = rows_per_file + int(change[0])
                yield frame.iloc[:cut]
                written += 1
                frame = frame.iloc[cut:].reset_index(drop=True)
            carry = frame
        if len(carry) or written == 0:
            yield carry

    def _panel(self, part: pd.DataFrame, metadata: dict[str, Any]) -> CareerPanel:
        frame = pd.DataFrame(
            {
                "person_id": part["person"].to_numpy(),
                "year": part["year"].to_numpy(),
                "occ": pd.Categorical.from_codes(part["state"].to_numpy(), categories=list(self.scheme.states)),
            }
        )
        for role in self.covariates:
            frame[role] = self.records.covariates[role].values(part[role].to_numpy())
        return CareerPanel(
            frame,
            covariates=self.covariates,
            static=[],
            scheme=self.scheme,
            name=self.rules.name,
            metadata=metadata,
        )


def _checked_size(text: str) -> str:
    """A DuckDB memory size such as ``"2GB"`` or ``"512 MiB"``; anything else raises."""
    cleaned = str(text).strip()
    number = cleaned.rstrip("KMGTiBb ").strip()
    unit = cleaned[len(number) :].strip()
    if not number.replace(".", "", 1).isdigit() or unit.upper() not in {
        "KB",
        "MB",
        "GB",
        "TB",
        "KIB",
        "MIB",
        "GIB",
        "TIB",
    }:
        raise ValueError(f"memory_limit must be a size such as '2GB' or '512MB', got {text!r}")
    return f"{number}{unit}"


def _sql_text(text: str) -> str:
    """``text`` for a single-quoted SQL literal."""
    return text.replace("'", "''")
