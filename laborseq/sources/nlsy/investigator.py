"""Reading the files of an NLS Investigator download (NLSY79 and NLSY97).

An Investigator extract ``<name>`` comes as ``<name>.csv`` (comma-separated,
header = reference numbers such as ``R0046400``), ``<name>.dat`` (the same
values space-separated, no header), the tagset ``<name>.NLSY79`` /
``<name>.NLSY97`` (one reference number per line: the column order of the
.dat) and the codebook ``<name>.cdb`` (``docs/survey-formats.md``, sections
C.1.1 to C.1.4). This module reads the codebook, the tagset, the header and the
values of the wanted columns; :mod:`laborseq.sources.nlsy.columns` says what the
columns mean.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from laborseq.sources.nlsy.names import normalize_qname, normalize_refnum

MISSING_CODES: dict[int, str] = {
    -1: "refusal",
    -2: "don't know",
    -3: "invalid skip",
    -4: "valid skip",
    -5: "non-interview",
}
"""NLS missing-value codes of every numeric variable (``docs/survey-formats.md``, section C.1.3)."""

_CDB_HEADER = re.compile(r"^\s*([A-Za-z][0-9]{5}\.[0-9]{2})\s+\[([^\]]*)\]\s+Survey Year:\s*(\S+)")
_CDB_RULE = re.compile(r"^-{20,}\s*$")
_CDB_DESIGNATION = re.compile(r"^[A-Z ]*VARIABLE$")
_IMPLIED = re.compile(r"\b([0-9]|ONE|TWO|THREE|FOUR)\s+IMPLIED\s+DECIMAL", re.IGNORECASE)
_NUMBER_WORDS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4}


class NLSYFormatError(ValueError):
    """Raised when an NLS Investigator export cannot be read as its layout is documented.

    The layout is described in ``docs/survey-formats.md``, section C.1.
    """


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


def load_codebook(path: Path, codebook: str | os.PathLike[str] | bool | None) -> Codebook | None:
    """The codebook of the export ``path``, as :func:`~laborseq.sources.nlsy.nlsy79.read_nlsy79` takes it.

    ``None``: ``<stem>.cdb`` beside ``path`` if there is one; ``True``: that file,
    which must exist; ``False``: no codebook; a path: that file.

    Raises
    ------
    FileNotFoundError
        If a required or named codebook does not exist.
    """
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
