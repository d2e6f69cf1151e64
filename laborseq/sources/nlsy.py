"""Shared parsing of NLS Investigator downloads (NLSY79 and NLSY97).

An Investigator extract ``<name>`` comes as ``<name>.csv`` (comma-separated,
header = reference numbers such as ``R0046400``), ``<name>.dat`` (the same
values space-separated, no header), the tagset ``<name>.NLSY79`` /
``<name>.NLSY97`` (one reference number per line: the column order of the
.dat) and the codebook ``<name>.cdb``. Users also rename the header to
question names: Stata ``CPSOCC80_01_2000``, SAS/R ``CPSOCC80.01_2000``,
NLSY97 ``KEY!SEX_1997`` (``KEY_SEX_1997`` in Stata), often lower-cased.

This module reads any of these into numpy columns and resolves every column
to a question name and survey year (through the codebook, a cohort's built-in
catalogue of reference numbers, or the renamed header itself). The cohort
readers (:mod:`laborseq.sources.nlsy79`, :mod:`laborseq.sources.nlsy97`) say
which question names are occupations and covariates; :func:`read_investigator`
turns them into the long candidate table of
:func:`~laborseq.sources.harmonize.harmonize` and calls it.

Layouts follow ``survey-formats.md`` section C.1 (NLS Investigator download
bundle, missing codes, codebook entries).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from laborseq.occupations.crosswalk import OnUnmapped
from laborseq.occupations.occ1990dd import Variant
from laborseq.panel import CareerPanel
from laborseq.panel.education import education_from_years
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import SpecialCode, harmonize

MISSING_CODES: dict[int, str] = {
    -1: "refusal",
    -2: "don't know",
    -3: "invalid skip",
    -4: "valid skip",
    -5: "non-interview",
}
"""NLS missing-value codes of every numeric variable."""

REGIONS: dict[int, str] = {1: "northeast", 2: "north_central", 3: "south", 4: "west"}
"""Census regions as coded in NLSY79 ``REGION`` and NLSY97 ``CV_CENSUS_REGION``."""

DEFAULT_WEIGHT_DECIMALS = 2
"""Implied decimal places of NLSY sampling weights when the codebook does not say."""

MAX_GRADE = 20
"""Highest valid grade of the NLS highest-grade-completed variables (95 = ungraded is missing)."""

_REFNUM = re.compile(r"^[A-Z][0-9]{7}$")
_CDB_REFNUM = re.compile(r"^([A-Z][0-9]{5})\.([0-9]{2})$")
_YEAR_SUFFIX = re.compile(r"^(.+?)_((?:19|20)[0-9]{2}|XRND|78SCRN|HSTR)$")
_CDB_HEADER = re.compile(r"^\s*([A-Za-z][0-9]{5}\.[0-9]{2})\s+\[([^\]]*)\]\s+Survey Year:\s*(\S+)")
_CDB_RULE = re.compile(r"^-{20,}\s*$")
_CDB_DESIGNATION = re.compile(r"^[A-Z ]*VARIABLE$")
_IMPLIED = re.compile(r"\b([0-9]|ONE|TWO|THREE|FOUR)\s+IMPLIED\s+DECIMAL", re.IGNORECASE)
_NUMBER_WORDS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4}


class NLSYFormatError(ValueError):
    """Raised when an NLS Investigator export cannot be read as documented."""


# ---------------------------------------------------------------------- names
def normalize_refnum(text: str) -> str | None:
    """A reference number in the CSV form (``R0046400``), or ``None`` if ``text`` is not one.

    Accepts the codebook form with a dot before the last two digits (``R00464.00``)
    and lower case.
    """
    text = text.strip().upper()
    if _REFNUM.match(text):
        return text
    m = _CDB_REFNUM.match(text)
    return m.group(1) + m.group(2) if m else None


def normalize_qname(name: str) -> str:
    """A question name in one spelling for all header styles.

    Upper case, every run of characters other than letters and digits becomes
    ``_``: ``OCCALL-EMP.01``, ``OCCALL_EMP_01`` and ``occall_emp_01`` all give
    ``OCCALL_EMP_01``; ``KEY!SEX`` gives ``KEY_SEX``.
    """
    return re.sub(r"[^A-Z0-9]+", "_", name.strip().upper()).strip("_")


def split_question_name(name: str) -> tuple[str, str | None]:
    """``(question name, survey-year label)`` of a renamed header ``<QNAME>_<year>``.

    The label is a four-digit year or ``XRND``/``78SCRN``/``HSTR``; ``None``
    when the name has no such suffix (``CASEID``).
    """
    norm = normalize_qname(name)
    m = _YEAR_SUFFIX.match(norm)
    return (m.group(1), m.group(2)) if m else (norm, None)


def year_of(label: str | None) -> int | None:
    """The survey year of a year label (``None`` for cross-round labels such as ``XRND``)."""
    return int(label) if label is not None and label.isdigit() and len(label) == 4 else None


# ---------------------------------------------------------------------- codebook, tagset
@dataclass(frozen=True)
class CodebookEntry:
    """One entry of an Investigator ``.cdb`` codebook.

    Attributes
    ----------
    refnum : str
        Reference number in the CSV form (``R0046400``).
    qname : str
        Question name as printed (``OCCALL-EMP.01``).
    year_label : str
        ``Survey Year:`` field (``1979``, ``XRND``, ``78SCRN``).
    title : str
        The title line (``OCCUPATION (CENSUS 4 DIGIT, 00 CODES) (ALL) JOB #01``).
    implied_decimals : int or None
        Implied decimal places if the entry mentions them (``2 IMPLIED DECIMAL PLACES``).
    """

    refnum: str
    qname: str
    year_label: str
    title: str
    implied_decimals: int | None = None


@dataclass(frozen=True)
class Codebook:
    """Parsed ``.cdb`` entries, by reference number and by (question name, year label)."""

    path: str
    entries: dict[str, CodebookEntry]
    by_name: dict[tuple[str, str], CodebookEntry] = field(repr=False)

    def __len__(self) -> int:
        return len(self.entries)


def read_codebook(path: str | os.PathLike[str]) -> Codebook:
    """Parse an Investigator codebook (``.cdb``).

    Each entry opens with a line ``R00464.00    [CPSOCC70]    Survey Year: 1979``,
    has a designation line (``PRIMARY VARIABLE``), the title line, free text
    and value counts, and closes with a line of dashes. Only the reference
    number, question name, survey year, title and any "implied decimal places"
    note are kept.

    Raises
    ------
    NLSYFormatError
        If the file has no entry header.
    """
    path = Path(path)
    text = _read_text(path)
    entries: dict[str, CodebookEntry] = {}
    current: list[Any] | None = None  # [refnum, qname, year, title, body lines]

    def close() -> None:
        if current is None:
            return
        body = "\n".join(current[4])
        m = _IMPLIED.search(body)
        decimals = None
        if m:
            word = m.group(1).upper()
            decimals = int(word) if word.isdigit() else _NUMBER_WORDS[word]
        entries[current[0]] = CodebookEntry(current[0], current[1], current[2], current[3] or "", decimals)

    for line in text.splitlines():
        head = _CDB_HEADER.match(line)
        if head:
            close()
            refnum = normalize_refnum(head.group(1))
            current = [refnum, head.group(2).strip(), head.group(3).strip().upper(), None, []]
            continue
        if current is None:
            continue
        if _CDB_RULE.match(line):
            close()
            current = None
            continue
        stripped = line.strip()
        if current[3] is None and stripped and not _CDB_DESIGNATION.match(stripped):
            current[3] = stripped
        current[4].append(line)
    close()
    if not entries:
        raise NLSYFormatError(
            f"{path}: no codebook entries found (an entry opens with a line like "
            f"'R00464.00    [CPSOCC70]    Survey Year: 1979')"
        )
    by_name = {(normalize_qname(e.qname), e.year_label): e for e in entries.values()}
    return Codebook(str(path), entries, by_name)


def read_tagset(path: str | os.PathLike[str]) -> list[str]:
    """Reference numbers of a tagset file (``.NLSY79``/``.NLSY97``), one per line, in order.

    Raises
    ------
    NLSYFormatError
        If a line is not a reference number, or the file names none.
    """
    path = Path(path)
    refs: list[str] = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        ref = normalize_refnum(line)
        if ref is None:
            raise NLSYFormatError(f"{path}, line {number}: {line.strip()!r} is not a reference number like R0000100")
        refs.append(ref)
    if not refs:
        raise NLSYFormatError(f"{path}: the tagset is empty")
    return refs


def sidecar(path: Path, suffix: str) -> Path | None:
    """``<stem><suffix>`` beside ``path`` (suffix matched case-insensitively), if it exists."""
    exact = path.with_suffix(suffix)
    if exact.is_file():
        return exact
    wanted = (path.stem + suffix).lower()
    for other in path.parent.iterdir():
        if other.name.lower() == wanted and other.is_file():
            return other
    return None


# ---------------------------------------------------------------------- occupation frames
_DECADE_FRAMES = {"70": "occ1970", "80": "occ1980", "00": "occ2000", "02": "occ2000", "10": "occ2010"}
_TITLE_DECADE = (
    re.compile(r"\b(?:19|20)?(70|80|00|02|10)\s+(?:CENSUS\s+)?CODES?\b"),
    re.compile(r"\bCENSUS\s+(?:19|20)(70|80|00|02|10)\b"),
    re.compile(r"\b(?:19|20)(70|80|00|02|10)\s+CENSUS\b"),
)
_TITLE_DIGITS = re.compile(r"\b([34])[\s-]+DIGITS?\b")


def frame_from_title(title: str | None, default: str) -> tuple[str, bool]:
    """The code frame a codebook title names, and whether the title decided it.

    ``"OCCUPATION (CENSUS 4 DIGIT, 00 CODES) (ALL) JOB #01"`` gives
    ``("occ2000_4digit", True)``; a title saying ``10 CODES`` or ``2010 CENSUS``
    gives ``occ2010``, ``70``/``80 CODES`` the 1970/1980 frames; ``3 DIGIT``
    with 2000 codes gives ``occ2000``. Without a census year the frame family
    of ``default`` is kept (the digit count still chooses between the 3- and
    4-digit 2000 frames). Only the title line is read: codebook comments are
    sometimes stale (the 2016 NLSY79 roster entry says "1970 CENSUS CODE" in
    its comment).
    """
    if not title:
        return default, False
    text = title.upper()
    family = None
    for pattern in _TITLE_DECADE:
        m = pattern.search(text)
        if m:
            family = _DECADE_FRAMES[m.group(1)]
            break
    digits = _TITLE_DIGITS.search(text)
    if family is None:
        if digits and default in ("occ2000", "occ2000_4digit"):
            frame = "occ2000_4digit" if digits.group(1) == "4" else "occ2000"
            return frame, True
        return default, False
    if family == "occ2000":
        if digits:
            family = "occ2000_4digit" if digits.group(1) == "4" else "occ2000"
        elif default in ("occ2000", "occ2000_4digit"):
            family = default
    return family, True


# ---------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Role:
    """What a question name is to a cohort reader.

    Attributes
    ----------
    kind : str
        ``"id"``; an occupation kind (``"CPSOCC70"``, ``"CPSOCC80"``,
        ``"roster"``); or a covariate kind (``"sex"``, ``"race"``, ``"sample"``,
        ``"region"``, ``"education"``, ``"weight"``).
    rank : int
        Preference among variables of the same kind and year (lower wins).
    job : int
        Employer-roster job number (``.01`` -> 1); 0 otherwise.
    """

    kind: str
    rank: int = 0
    job: int = 0

    @property
    def is_occupation(self) -> bool:
        return self.kind in OCCUPATION_KINDS


OCCUPATION_KINDS = ("CPSOCC70", "CPSOCC80", "roster")
STATIC_KINDS = ("sex", "race", "sample")
ROUND_KINDS = ("region", "education", "weight")


@dataclass(frozen=True)
class Column:
    """One column of the export, resolved to a question name and survey year."""

    position: int
    name: str
    refnum: str | None
    qname: str | None
    year_label: str | None
    title: str | None = None
    implied_decimals: int | None = None
    source: str = "header"
    role: Role | None = None

    @property
    def year(self) -> int | None:
        return year_of(self.year_label)

    @property
    def described(self) -> str:
        """``R0046400 (CPSOCC70_1979)`` or the header name."""
        named = self.qname if self.year_label is None else f"{self.qname}_{self.year_label}"
        if self.refnum and self.refnum != self.name:
            return f"{self.name} ({self.refnum}, {named})"
        return f"{self.name} ({named})" if self.refnum and self.qname else self.name


@dataclass(frozen=True)
class Cohort:
    """What distinguishes NLSY79 from NLSY97 for :func:`read_investigator`.

    Attributes
    ----------
    name : str
        ``"NLSY79"`` or ``"NLSY97"`` (also the tagset suffix).
    id_name : str
        Question name of the person id (``CASEID``, ``PUBID``).
    catalogue : mapping of str to (str, str)
        Built-in reference number -> (question name, year label).
    classify : callable
        Normalized question name -> :class:`Role` or ``None``.
    default_frame : callable
        (occupation kind, survey year) -> code frame when the codebook says nothing.
    label : callable
        (occupation kind, job, survey year) -> the variable's name in the lineage.
    categories : mapping of str to (str, dict)
        Covariate kind -> (covariate name, code -> label) for ``sex``, ``race``,
        ``sample``, ``region``.
    """

    name: str
    id_name: str
    catalogue: Mapping[str, tuple[str, str]]
    classify: Callable[[str], Role | None]
    default_frame: Callable[[str, int], str]
    label: Callable[[str, int, int], str]
    categories: Mapping[str, tuple[str, Mapping[int, str]]]

    @property
    def tagset_suffix(self) -> str:
        return "." + self.name


@dataclass(frozen=True)
class OccupationVariable:
    """An occupation column with its frame and priority."""

    column: Column
    kind: str
    job: int
    year: int
    frame: str
    frame_from_codebook: bool
    priority: int
    label: str


def resolve_columns(names: Sequence[str], cohort: Cohort, codebook: Codebook | None) -> list[Column]:
    """Resolve header (or tagset) names to question names, survey years and roles."""
    out = []
    for position, name in enumerate(names):
        ref = normalize_refnum(name)
        entry = None
        if ref is not None:
            entry = codebook.entries.get(ref) if codebook else None
            if entry is not None:
                qname, label, source = normalize_qname(entry.qname), entry.year_label, "codebook"
            elif ref in cohort.catalogue:
                raw, label = cohort.catalogue[ref]
                qname, source = normalize_qname(raw), "catalogue"
            else:
                out.append(Column(position, name, ref, None, None, source="unknown"))
                continue
        else:
            qname, label = split_question_name(name)
            source = "header"
            if codebook is not None and label is not None:
                entry = codebook.by_name.get((qname, label))
        title = entry.title if entry else None
        decimals = entry.implied_decimals if entry else None
        role = Role("id") if qname == cohort.id_name else cohort.classify(qname)
        out.append(Column(position, name, ref, qname, label, title, decimals, source, role))
    return out


# ---------------------------------------------------------------------- reading values
def _read_text(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        return handle.read()


def read_header(path: Path) -> list[str]:
    """Field names of the first line of a CSV (empty list for an empty file)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = next(csv.reader(handle), [])
    return [f.strip() for f in first]


def read_values(
    path: Path,
    *,
    n_fields: int,
    header: bool,
    delimiter: str,
    wanted: Mapping[int, str],
    describe: Callable[[int], str],
    layout: str,
) -> dict[int, np.ndarray]:
    """Read the columns at positions ``wanted`` (position -> ``"float32"``/``"float64"``).

    Blank cells become NaN. Raises :class:`NLSYFormatError` naming the line of
    a row with the wrong number of fields, or the column and data row of the
    first value that is not a number.
    """
    internal = [f"c{i}" for i in range(n_fields)]
    types = {"float32": pa.float32(), "float64": pa.float64()}
    convert = pacsv.ConvertOptions(
        include_columns=[internal[i] for i in wanted],
        column_types={internal[i]: types[t] for i, t in wanted.items()},
    )
    read = pacsv.ReadOptions(column_names=internal, skip_rows=1 if header else 0)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    try:
        table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        _diagnose(path, exc, n_fields=n_fields, header=header, delimiter=delimiter, wanted=wanted, describe=describe)
        raise NLSYFormatError(f"{path}: cannot be read as {layout}: {exc}") from exc
    if table.num_rows == 0:
        raise NLSYFormatError(f"{path}: the file has no data rows" + (" (only a header)" if header else ""))
    return {i: table.column(internal[i]).to_numpy() for i in wanted}


def _diagnose(
    path: Path,
    exc: Exception,
    *,
    n_fields: int,
    header: bool,
    delimiter: str,
    wanted: Mapping[int, str],
    describe: Callable[[int], str],
) -> None:
    """Find what pyarrow refused: a ragged line, or a value that is not a number."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        rows: Iterable[list[str]]
        if delimiter == " ":
            rows = (line.rstrip("\r\n").split(" ") for line in handle)
        else:
            rows = csv.reader(handle, delimiter=delimiter)
        for number, fields in enumerate(rows, start=1):
            if (header and number == 1) or fields in ([], [""]):
                continue
            if len(fields) != n_fields:
                raise NLSYFormatError(
                    f"{path}, line {number}: {len(fields)} fields, but {n_fields} columns are expected"
                    + (" (the tagset's length)" if not header else " (the header's length)")
                ) from exc
    internal = [f"c{i}" for i in range(n_fields)]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=internal, skip_rows=1 if header else 0),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            include_columns=[internal[i] for i in wanted],
            column_types={internal[i]: pa.string() for i in wanted},
        ),
    )
    for i in sorted(wanted):
        raw = pd.Series(table.column(internal[i]).to_pylist(), dtype=object)
        text = raw.fillna("").astype(str).str.strip()
        bad = pd.to_numeric(text.where(text != ""), errors="coerce").isna() & (text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise NLSYFormatError(
                f"{path}: column {describe(i)} has a non-numeric value {text.iloc[row]!r} "
                f"in data row {row + 1} (line {row + 1 + int(header)})"
            ) from exc


# ---------------------------------------------------------------------- covariates
def _categorical(values: np.ndarray, mapping: Mapping[int, str]) -> pd.Categorical:
    """Integer codes -> labels (anything else, including NLS missing codes, is missing)."""
    labels = list(dict.fromkeys(mapping.values()))
    top = max(mapping)
    lut = np.full(top + 1, -1, dtype=np.int8)
    for code, label in mapping.items():
        lut[code] = labels.index(label)
    ok = np.isfinite(values) & (values >= 0) & (values <= top) & (values == np.floor(values))
    codes = np.full(len(values), -1, dtype=np.int8)
    codes[ok] = lut[values[ok].astype(np.int64)]
    return pd.Categorical.from_codes(codes, categories=labels)


def _education(values: np.ndarray) -> pd.Categorical:
    """Highest grade completed (0-20; 95 ungraded and NLS missing codes are missing) -> education level.

    :func:`~laborseq.panel.education.education_from_years` is applied to the
    21 possible grades once and the result looked up per row.
    """
    levels = education_from_years(pd.Series(np.arange(MAX_GRADE + 1, dtype=float)))
    lut = np.asarray(levels.cat.codes, dtype=np.int8)
    ok = np.isfinite(values) & (values >= 0) & (values <= MAX_GRADE) & (values == np.floor(values))
    codes = np.full(len(values), -1, dtype=np.int8)
    codes[ok] = lut[values[ok].astype(np.int64)]
    return pd.Categorical.from_codes(codes, dtype=levels.dtype)


# ---------------------------------------------------------------------- the reader
def read_investigator(
    path: str | os.PathLike[str],
    cohort: Cohort,
    *,
    codebook: str | os.PathLike[str] | bool | None,
    tagset: str | os.PathLike[str] | None,
    rounds: Iterable[int] | None,
    persons: Iterable[int] | None,
    priority: Callable[[str, int], int],
    special_codes: Mapping[tuple[str, int], SpecialCode],
    variant: Variant,
    on_unmapped: OnUnmapped,
    options: Mapping[str, Any],
) -> CareerPanel:
    """Parse an Investigator export into candidates and covariates and harmonize them.

    See :func:`laborseq.sources.nlsy79.read_nlsy79` for the parameters;
    ``priority(kind, job)`` gives the priority of an occupation variable.
    """
    if on_unmapped not in ("drop", "raise"):
        raise ValueError(f"on_unmapped must be 'drop' or 'raise', got {on_unmapped!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{cohort.name} export not found: {path}")
    if not path.is_file():
        raise NLSYFormatError(f"{path} is not a file")
    if path.stat().st_size == 0 or not _read_head(path).strip():
        raise NLSYFormatError(f"{path}: the file is empty")

    book = _load_codebook(path, codebook)
    tag_path = Path(tagset) if tagset is not None else sidecar(path, cohort.tagset_suffix)
    if tagset is not None and not tag_path.is_file():  # type: ignore[union-attr]
        raise FileNotFoundError(f"tagset not found: {tagset}")

    is_dat = path.suffix.lower() == ".dat"
    if is_dat:
        if tag_path is None:
            raise NLSYFormatError(
                f"{path}: a .dat file has no header; give its tagset (tagset=...) or put "
                f"{path.stem}{cohort.tagset_suffix} beside it"
            )
        names, header, delimiter, layout = read_tagset(tag_path), False, " ", "a space-separated .dat"
    else:
        names, header, delimiter, layout = read_header(path), True, ",", "an Investigator CSV"
        if all(_is_number(n) for n in names):  # no header row: the tagset names the columns
            if tag_path is None:
                raise NLSYFormatError(f"{path}: the first line is data, not a header; give the tagset")
            names, header = read_tagset(tag_path), False
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise NLSYFormatError(f"{path}: the header repeats column(s) {dupes}")

    columns = resolve_columns(names, cohort, book)
    ids_col = [c for c in columns if c.role is not None and c.role.kind == "id"]
    if not ids_col:
        raise NLSYFormatError(
            f"{path}: no person id column (R0000100 or {cohort.id_name}_{_id_year(cohort)}); "
            f"the columns are {_preview(names)}"
        )
    id_col = ids_col[0]
    occupations = _occupation_variables(path, columns, cohort, priority)
    file_rounds = sorted({v.year for v in occupations})
    outside: list[OccupationVariable] = []
    if rounds is not None:  # columns of other rounds are not read, but their candidates are counted
        chosen = {int(r) for r in rounds}
        if not chosen & set(file_rounds):
            raise ValueError(f"{path}: none of the selected rounds {sorted(chosen)} is in the file ({file_rounds})")
        outside = [v for v in occupations if v.year not in chosen]
        occupations = [v for v in occupations if v.year in chosen]
    static_cols, round_cols, unused = _covariate_columns(columns, id_col, occupations + outside)
    round_cols = [c for c in round_cols if c.year in {v.year for v in occupations}]

    wanted = {id_col.position: "float64"}
    wanted.update({v.column.position: "float32" for v in occupations})
    wanted.update({c.position: "float32" for c in static_cols + round_cols})  # exact for integers < 2**24
    values = read_values(
        path,
        n_fields=len(names),
        header=header,
        delimiter=delimiter,
        wanted=wanted,
        describe=lambda i: columns[i].described,
        layout=layout,
    )
    ids = _person_ids(path, values[id_col.position], id_col, header)

    # ---- selection, counted in the lineage
    n = len(ids)
    lineage = Lineage(source=str(path), rows_read=n * (len(occupations) + len(outside)), unit="candidate occupation")
    keep_person = np.ones(n, dtype=bool)
    if persons is not None:
        wanted_ids = np.unique(np.asarray(list(persons), dtype=np.int64))
        keep_person = np.isin(ids, wanted_ids)
        if not keep_person.any():
            raise ValueError(f"{path}: none of the {len(wanted_ids)} selected persons is in the file")
        lineage.drop("persons", "person not selected", int((~keep_person).sum()) * (len(occupations) + len(outside)))
    if outside:
        lineage.drop(
            "rounds",
            "outside selected rounds",
            int(keep_person.sum()) * len(outside),
            rounds=sorted({v.year for v in outside}),
        )

    selected = ids[keep_person]
    candidates = _candidates(selected, occupations, values, keep_person)
    person_cov = _static_covariates(selected, static_cols, values, keep_person, cohort)
    round_cov, weight, weight_note = _round_covariates(selected, round_cols, values, keep_person, cohort, occupations)

    del values  # the candidates and covariates hold what harmonize needs
    metadata = {
        "source": cohort.name,
        "path": str(path),
        "layout": layout,
        "header": _header_style(columns) if header else "tagset",
        "codebook": book.path if book else None,
        "tagset": str(tag_path) if tag_path else None,
        **options,
        "rounds": sorted({v.year for v in occupations}),
        "rounds_in_file": file_rounds,
        "occupation_variables": [
            {
                "variable": v.label,
                "column": v.column.name,
                "refnum": v.column.refnum,
                "year": v.year,
                "frame": v.frame,
                "frame_from": "codebook title" if v.frame_from_codebook else "round table",
                "priority": v.priority,
            }
            for v in sorted(occupations, key=lambda v: (v.year, v.priority))
        ],
        "ignored_columns": [c.name for c in columns if c.source == "unknown"],
        "n_ignored_columns": sum(c.source == "unknown" for c in columns),
        "unused_columns": [c.described for c in unused],
        "weight": weight_note,
    }
    return harmonize(
        candidates,
        source=str(path),
        variant=variant,
        missing_codes=MISSING_CODES,
        special_codes=special_codes,
        on_unmapped=on_unmapped,
        covariates=round_cov,
        person_covariates=person_cov,
        weight=weight,
        name=cohort.name.lower(),
        metadata=metadata,
        lineage=lineage,
    )


def _read_head(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as handle:
        return handle.read(size).decode("utf-8", errors="replace").lstrip("\ufeff")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _id_year(cohort: Cohort) -> str:
    return "1979" if cohort.name == "NLSY79" else "1997"


def _preview(items: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(str(x) for x in items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}] ({len(items)} in all)"


def _header_style(columns: Sequence[Column]) -> str:
    refs = sum(c.refnum is not None for c in columns)
    return "reference numbers" if refs == len(columns) else "question names" if refs == 0 else "mixed"


def _load_codebook(path: Path, codebook: str | os.PathLike[str] | bool | None) -> Codebook | None:
    if codebook is False:
        return None
    if codebook is None or codebook is True:
        found = sidecar(path, ".cdb")
        if found is None and codebook is True:
            raise FileNotFoundError(f"no codebook {path.stem}.cdb beside {path}")
        return read_codebook(found) if found else None
    book = Path(codebook)
    if not book.is_file():
        raise FileNotFoundError(f"codebook not found: {book}")
    return read_codebook(book)


def _occupation_variables(
    path: Path, columns: Sequence[Column], cohort: Cohort, priority: Callable[[str, int], int]
) -> list[OccupationVariable]:
    found: dict[tuple[str, int, int], OccupationVariable] = {}
    for col in columns:
        if col.role is None or not col.role.is_occupation:
            continue
        year = col.year
        if year is None:
            raise NLSYFormatError(f"{path}: occupation column {col.described} has no survey year")
        kind, job = col.role.kind, col.role.job
        frame, decided = frame_from_title(col.title, cohort.default_frame(kind, year))
        var = OccupationVariable(
            col, kind, job, year, frame, decided, priority(kind, job), cohort.label(kind, job, year)
        )
        key = (kind, job, year)
        if key in found:
            raise NLSYFormatError(
                f"{path}: occupation variable {var.label} appears twice "
                f"(columns {found[key].column.name} and {col.name})"
            )
        found[key] = var
    if not found:
        resolved = [c.described for c in columns if c.source != "unknown"]
        hint = "" if any(c.source == "codebook" for c in columns) else "; give the codebook (.cdb) of the extract"
        raise NLSYFormatError(
            f"{path}: no recognisable {cohort.name} occupation variable among the columns "
            f"{_preview(resolved)} (unresolved reference numbers: "
            f"{_preview([c.name for c in columns if c.source == 'unknown'])}){hint}"
        )
    return sorted(found.values(), key=lambda v: (v.year, v.priority))


def _covariate_columns(
    columns: Sequence[Column], id_col: Column, occupations: Sequence[OccupationVariable]
) -> tuple[list[Column], list[Column], list[Column]]:
    """Static and per-round covariate columns (best rank per kind and year), and the unused rest."""
    best: dict[tuple[str, int | None], Column] = {}
    used = {id_col.position} | {v.column.position for v in occupations}
    static: list[Column] = []
    for col in columns:
        role = col.role
        if role is None or col.position in used:
            continue
        if role.kind in STATIC_KINDS:
            static.append(col)
        elif role.kind in ROUND_KINDS and col.year is not None:
            key = (role.kind, col.year)
            if key not in best or role.rank < best[key].role.rank:  # type: ignore[union-attr]
                best[key] = col
    static.sort(key=lambda c: (STATIC_KINDS.index(c.role.kind), c.role.rank, c.year or 0))  # type: ignore[union-attr]
    per_round = sorted(best.values(), key=lambda c: (c.year, c.role.kind))  # type: ignore[union-attr]
    used |= {c.position for c in static} | {c.position for c in per_round}
    unused = [c for c in columns if c.position not in used and c.source != "unknown"]
    return static, per_round, unused


def _person_ids(path: Path, raw: np.ndarray, col: Column, header: bool) -> np.ndarray:
    blank = ~np.isfinite(raw)
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise NLSYFormatError(
            f"{path}: person id column {col.described} is blank in data row {row + 1} (line {row + 1 + int(header)})"
        )
    fractional = raw != np.floor(raw)
    if fractional.any():
        row = int(np.flatnonzero(fractional)[0])
        raise NLSYFormatError(
            f"{path}: person id {raw[row]} in data row {row + 1} (line {row + 1 + int(header)}) is not an integer"
        )
    ids = raw.astype(np.int64)
    order = np.sort(ids)
    repeated = np.unique(order[1:][order[1:] == order[:-1]])
    if len(repeated):
        rows = np.flatnonzero(np.isin(ids, repeated[:10])) + 1
        raise NLSYFormatError(
            f"{path}: person id(s) {repeated[:10].tolist()}{' ...' if len(repeated) > 10 else ''} appear more "
            f"than once in column {col.described} ({len(repeated)} repeated id(s); data rows {rows[:10].tolist()})"
        )
    return ids


def _candidates(
    ids: np.ndarray, occupations: Sequence[OccupationVariable], values: Mapping[int, np.ndarray], keep: np.ndarray
) -> pd.DataFrame:
    """One row per person x occupation variable, person-major (a person's rows in year and priority order).

    ``person_id`` int64, ``year`` int16, ``code`` float32 (NaN for blanks),
    ``priority`` int16. ``frame`` is a categorical over object-dtype categories
    (materialized once by harmonize, sharing one string object per category).
    ``variable`` is an object column of shared strings: harmonize labels the
    example rows of every unmapped code with ``candidates["variable"].to_numpy()``,
    which for a categorical rebuilds the whole column per code (about 10x
    slower on exports with hundreds of unmapped codes).
    """
    m, k = len(ids), len(occupations)
    all_persons = bool(keep.all())
    code = np.empty((m, k), dtype=np.float32)
    for j, var in enumerate(occupations):
        column = values[var.column.position]
        code[:, j] = column if all_persons else column[keep]
    frames = list(dict.fromkeys(v.frame for v in occupations))
    frame_codes = np.array([frames.index(v.frame) for v in occupations], dtype=np.int8)
    variable_codes = np.arange(k, dtype=np.int16 if k < 2**15 else np.int32)
    return pd.DataFrame(
        {
            "person_id": np.repeat(ids, k),
            "year": np.tile(np.array([v.year for v in occupations], dtype=np.int16), m),
            "variable": pd.Series(
                np.array([v.label for v in occupations], dtype=object)[np.tile(variable_codes, m)], dtype=object
            ),
            "frame": pd.Categorical.from_codes(np.tile(frame_codes, m), categories=pd.Index(frames, dtype=object)),
            "code": code.ravel(),
            "priority": np.tile(np.array([v.priority for v in occupations], dtype=np.int16), m),
        },
        copy=False,
    )


def _static_covariates(
    ids: np.ndarray, cols: Sequence[Column], values: Mapping[int, np.ndarray], keep: np.ndarray, cohort: Cohort
) -> pd.DataFrame | None:
    """Person-level covariates; where a kind has several columns the first non-missing value wins."""
    if not cols:
        return None
    out: dict[str, pd.Categorical] = {}
    for col in cols:
        name, mapping = cohort.categories[col.role.kind]  # type: ignore[union-attr]
        cat = _categorical(values[col.position][keep], mapping)
        if name in out:  # same mapping, same categories: fill the gaps of the earlier column
            codes = np.where(out[name].codes >= 0, out[name].codes, cat.codes)
            cat = pd.Categorical.from_codes(codes, categories=cat.categories)
        out[name] = cat
    return pd.DataFrame(out, index=pd.Index(ids, name="person_id"))


def _round_covariates(
    ids: np.ndarray,
    cols: Sequence[Column],
    values: Mapping[int, np.ndarray],
    keep: np.ndarray,
    cohort: Cohort,
    occupations: Sequence[OccupationVariable],
) -> tuple[pd.DataFrame | None, str | None, dict[str, Any] | None]:
    """Per-round covariates indexed by (person_id, year), and the weight column if it can be the panel weight."""
    if not cols:
        return None, None, None
    years = sorted({c.year for c in cols})  # type: ignore[type-var]
    m = len(ids)
    where = {y: slice(i * m, (i + 1) * m) for i, y in enumerate(years)}
    index = pd.MultiIndex(  # ids are unique: build the codes instead of factorizing 20M keys
        levels=[pd.Index(ids), pd.Index(np.array(years, dtype=np.int16))],
        codes=[np.tile(np.arange(m, dtype=np.int32), len(years)), np.repeat(np.arange(len(years), dtype=np.int16), m)],
        names=["person_id", "year"],
        verify_integrity=False,
    )
    frame = pd.DataFrame(index=index)
    weights: dict[int, np.ndarray] = {}
    note: dict[str, Any] | None = None
    for kind in ROUND_KINDS:
        kind_cols = [c for c in cols if c.role.kind == kind]  # type: ignore[union-attr]
        if not kind_cols:
            continue
        if kind == "weight":
            data = np.full(m * len(years), np.nan)
            decimals = {}
            for c in kind_cols:
                raw = values[c.position][keep]
                places = DEFAULT_WEIGHT_DECIMALS if c.implied_decimals is None else c.implied_decimals
                decimals[c.described] = places
                weights[c.year] = np.where(raw >= 0, raw.astype(np.float64) / 10**places, np.nan)  # type: ignore[index]
                data[where[c.year]] = weights[c.year]  # type: ignore[index]
            note = {"variables": decimals, "rule": "negative values are missing; divided by 10**implied decimals"}
            frame["weight"] = data
            continue
        codes = np.full(m * len(years), np.nan, dtype=np.float32)
        for c in kind_cols:
            codes[where[c.year]] = values[c.position][keep]  # type: ignore[index]
        if kind == "region":
            frame["region"] = _categorical(codes, cohort.categories["region"][1])
        else:
            frame["education"] = _education(codes)
    weight = None
    if weights:
        gaps = _unweighted_candidates(occupations, values, keep, weights)
        if gaps:
            frame = frame.rename(columns={"weight": "sampling_weight"})
            note["used_as"] = "covariate sampling_weight"  # type: ignore[index]
            note["reason"] = (  # type: ignore[index]
                f"{gaps} person-year(s) with an occupation code have no valid weight of their round "
                f"(e.g. rounds without a weight variable); the panel has no weight"
            )
        else:
            weight = "weight"
            note["used_as"] = "panel weight"  # type: ignore[index]
    return frame, weight, note


def _unweighted_candidates(
    occupations: Sequence[OccupationVariable],
    values: Mapping[int, np.ndarray],
    keep: np.ndarray,
    weights: Mapping[int, np.ndarray],
) -> int:
    """Person-years with a non-missing occupation code but no valid weight of their round."""
    coded: dict[int, np.ndarray] = {}
    for var in occupations:
        has_code = values[var.column.position][keep] >= 0
        coded[var.year] = coded[var.year] | has_code if var.year in coded else has_code
    gaps = 0
    for year, has_code in coded.items():
        w = weights.get(year)
        gaps += int(has_code.sum()) if w is None else int((has_code & np.isnan(w)).sum())
    return gaps
