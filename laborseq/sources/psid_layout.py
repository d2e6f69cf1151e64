"""Column layouts of PSID fixed-width files, read from their setup programs.

PSID hands out its data as fixed-width ASCII (``J<jobid>.txt`` from the Data
Center, ``FAM2003ER.txt`` etc. from the packaged files) with the column layout
only in the setup programs shipped beside it (survey-formats.md, C.2):

* Stata ``.do``: a ``PSID DATA CENTER`` header block, ``infix`` with
  ``VAR start - end`` (optionally typed: ``long V1191 46 - 50``; ranges only,
  a one-column field is written ``5 - 5``), then
  ``label variable VAR "..."``; packaged files may put the layout in a ``.dct``
  dictionary that the ``.do`` reads;
* SPSS ``.sps``: ``DATA LIST FILE = ... FIXED /`` with ``VAR start - end``,
  then ``VARIABLE LABELS``;
* SAS ``.sas``: ``ATTRIB VAR LABEL="..." format=f3.`` then ``INPUT VAR start - end``.

:func:`read_layout` parses whichever is given (or found beside a data file,
preferring ``.do``, then ``.sps``, then ``.sas``) into a :class:`Layout`;
:func:`read_fixed_width` reads the data with it. Widths are never guessed: a
data file without a setup file is an error, and so are overlapping, out-of-order
or empty column ranges, rows shorter than the layout, characters beyond it, a
layout that does not match the record length the header declares, and
non-numeric values (PSID fields are numeric).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

SETUP_SUFFIXES = (".do", ".sps", ".sas")
"""Setup programs looked for beside a data file, in order of preference."""

SetupKind = Literal["do", "dct", "sps", "sas", "given"]


class PSIDFormatError(ValueError):
    """A PSID data or setup file that cannot be read as it stands.

    Attributes
    ----------
    path : pathlib.Path or None
        The offending file.
    line : int or None
        1-based line number in that file.
    variable : str or None
        The offending variable.
    """

    def __init__(
        self, message: str, *, path: Path | str | None = None, line: int | None = None, variable: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.line = line
        self.variable = variable


@dataclass(frozen=True)
class Field:
    """One variable of a fixed-width record.

    Attributes
    ----------
    name : str
        Variable name (upper case, e.g. ``"ER30001"``).
    start, end : int
        First and last column, 1-based and inclusive.
    line : int or None
        Line of the setup file that defines it (for error messages).
    """

    name: str
    start: int
    end: int
    line: int | None = None

    @property
    def width(self) -> int:
        """Number of columns."""
        return self.end - self.start + 1


@dataclass(frozen=True)
class Layout:
    """The column layout of a PSID fixed-width file.

    Attributes
    ----------
    fields : tuple of Field
        Variables in column order.
    labels : dict of str to str
        Variable labels from the setup file (whitespace as written).
    path : pathlib.Path or None
        The setup file it was read from.
    kind : {"do", "dct", "sps", "sas", "given"}
        Its format (``"given"`` for layouts built in code).
    record_length : int or None
        Record length the setup file declares (``MAX_REC_LENGTH`` of the header,
        ``LRECL``), when it does.
    n_observations, n_variables : int or None
        Row and variable counts the Data Center header declares.
    header : dict of str to str
        All ``KEY : value`` lines of the header block.
    """

    fields: tuple[Field, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None
    kind: SetupKind = "given"
    record_length: int | None = None
    n_observations: int | None = None
    n_variables: int | None = None
    header: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f.name: f for f in self.fields})
        _validate(self)

    @classmethod
    def from_fields(cls, fields: Iterable[tuple[str, int, int]], labels: Mapping[str, str] | None = None) -> Layout:
        """A layout from ``(name, start, end)`` triples (1-based, inclusive)."""
        items = tuple(Field(str(n).upper(), int(s), int(e)) for n, s, e in fields)
        return cls(items, {str(k).upper(): v for k, v in (labels or {}).items()})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.upper() in self._index  # type: ignore[attr-defined]

    def __getitem__(self, name: str) -> Field:
        try:
            return self._index[name.upper()]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"variable {name!r} is not in the layout{_from(self)}") from None

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        """Variable names in column order."""
        return tuple(f.name for f in self.fields)

    @property
    def width(self) -> int:
        """Last column the layout covers."""
        return max((f.end for f in self.fields), default=0)

    def label(self, name: str) -> str | None:
        """The variable's label with runs of blanks collapsed, or ``None``."""
        text = self.labels.get(name.upper())
        return None if text is None else " ".join(text.split())

    def colspecs(self, names: Iterable[str] | None = None) -> list[tuple[int, int]]:
        """Half-open 0-based ``(start - 1, end)`` pairs for :func:`pandas.read_fwf`."""
        chosen = self.fields if names is None else [self[n] for n in names]
        return [(f.start - 1, f.end) for f in chosen]


def _from(layout: Layout) -> str:
    return f" of {layout.path}" if layout.path is not None else ""


def _validate(layout: Layout) -> None:
    """Names unique, widths positive, ranges in order and disjoint, record length covered."""
    where = layout.path
    if not layout.fields:
        raise PSIDFormatError(f"{where or 'layout'}: no variables with column ranges were found", path=where)
    seen: dict[str, Field] = {}
    previous: Field | None = None
    for f in layout.fields:
        at = f" (line {f.line})" if f.line else ""
        if f.name in seen:
            raise PSIDFormatError(
                f"{where or 'layout'}: variable {f.name} is defined twice{at}", path=where, line=f.line, variable=f.name
            )
        seen[f.name] = f
        if f.start < 1 or f.end < f.start:
            raise PSIDFormatError(
                f"{where or 'layout'}: variable {f.name} has columns {f.start} - {f.end}{at}: "
                f"width {f.end - f.start + 1} is not positive",
                path=where,
                line=f.line,
                variable=f.name,
            )
        if previous is not None and f.start <= previous.end:
            kind = "overlaps" if f.start >= previous.start else "comes before"
            raise PSIDFormatError(
                f"{where or 'layout'}: variable {f.name} (columns {f.start} - {f.end}){at} {kind} "
                f"{previous.name} (columns {previous.start} - {previous.end}); column ranges must be in order "
                "and must not overlap",
                path=where,
                line=f.line,
                variable=f.name,
            )
        previous = f
    if layout.record_length is not None and layout.width != layout.record_length:
        raise PSIDFormatError(
            f"{where or 'layout'}: the layout covers columns 1 - {layout.width} but the header declares a record "
            f"length of {layout.record_length} (MAX_REC_LENGTH/LRECL); the setup file is truncated or is not the "
            "one of this extract",
            path=where,
        )
    if layout.n_variables is not None and layout.n_variables != len(layout.fields):
        raise PSIDFormatError(
            f"{where or 'layout'}: the layout defines {len(layout.fields)} variables but the header declares "
            f"N_OF_VARIABLES {layout.n_variables}",
            path=where,
        )


# ---------------------------------------------------------------------- finding and reading setup files
def find_setup_file(data_path: Path | str) -> Path:
    """The setup program beside ``data_path``: same stem, ``.do`` then ``.sps`` then ``.sas``.

    Raises
    ------
    FileNotFoundError
        When none is there (widths are never guessed).
    """
    data_path = Path(data_path)
    folder = data_path.parent if str(data_path.parent) else Path(".")
    stem = data_path.stem.lower()
    found: dict[str, Path] = {}
    if folder.is_dir():
        for candidate in folder.iterdir():
            suffix = candidate.suffix.lower()
            if candidate.stem.lower() == stem and suffix in SETUP_SUFFIXES and candidate.is_file():
                found.setdefault(suffix, candidate)
    for suffix in SETUP_SUFFIXES:
        if suffix in found:
            return found[suffix]
    raise FileNotFoundError(
        f"no setup file ({data_path.stem}.do, .sps or .sas) beside the PSID data file {data_path}; the column "
        "layout of a fixed-width file is only in its setup program: download it with the data (Data Center: "
        "choose the Stata, SPSS or SAS statements) or pass layout="
    )


def read_layout(path: Path | str) -> Layout:
    """Parse the column layout and labels of a PSID setup program.

    Parameters
    ----------
    path : path-like
        A setup file (``.do``, ``.dct``, ``.sps``, ``.sas``) or a data file, in
        which case the setup file beside it is used (:func:`find_setup_file`).

    Returns
    -------
    Layout

    Raises
    ------
    FileNotFoundError
        When the file, or a setup file beside a data file, does not exist.
    PSIDFormatError
        When the setup file has no layout, a token it cannot read, or a layout
        that fails validation (see :class:`Layout`).
    """
    path = Path(path)
    if path.suffix.lower() not in (*SETUP_SUFFIXES, ".dct"):
        path = find_setup_file(path)
    if not path.is_file():
        raise FileNotFoundError(f"PSID setup file {path} does not exist")
    text = path.read_text(encoding="latin-1").replace("\r\n", "\n").replace("\r", "\n")
    kind = path.suffix.lower().lstrip(".")
    if kind == "do":
        return _parse_do(text, path)
    if kind == "dct":
        return _parse_dct(text, path, labels={}, header={})
    if kind == "sps":
        return _parse_sps(text, path)
    return _parse_sas(text, path)


# ---------------------------------------------------------------------- shared pieces
_NAME = r"[A-Za-z_@#$][A-Za-z0-9_@#$.]*"
_HEADER_LINE = re.compile(r"^[\s*/]*([A-Za-z][A-Za-z_ &#]*?)\s*:\s*(.*?)\s*$", re.MULTILINE)
_STATEMENT = re.compile(
    r"^\s*(?:infix|infile|FILE\s+HANDLE|DATA\s+LIST|FILENAME|DATA\s|ATTRIB|INPUT|label\s+var|VARIABLE\s+LABELS?)\b",
    re.IGNORECASE | re.MULTILINE,
)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _header(text: str) -> dict[str, str]:
    """``KEY : value`` pairs of the comment block before the first statement."""
    first = _STATEMENT.search(text)
    block = text[: first.start()] if first else text
    return {m.group(1).strip().upper(): m.group(2) for m in _HEADER_LINE.finditer(block)}


def _int_or_none(value: str | None, what: str, path: Path) -> int | None:
    if value is None or not value.strip():
        return None
    digits = value.strip().rstrip(".")
    if not digits.isdigit():
        raise PSIDFormatError(f"{path}: header {what} is {value!r}, not a number", path=path)
    return int(digits)


def _build(
    entries: list[tuple[str, int, int, int]],
    path: Path,
    kind: SetupKind,
    labels: Mapping[str, str],
    header: Mapping[str, str],
    lrecl: int | None = None,
) -> Layout:
    declared = _int_or_none(header.get("MAX_REC_LENGTH"), "MAX_REC_LENGTH", path)
    if declared is not None and lrecl is not None and declared != lrecl:
        raise PSIDFormatError(
            f"{path}: the header declares MAX_REC_LENGTH {declared} but the statements say LRECL = {lrecl}", path=path
        )
    fields = tuple(Field(name.upper(), start, end, line) for name, start, end, line in entries)
    return Layout(
        fields,
        {k.upper(): v for k, v in labels.items()},
        path,
        kind,
        declared if declared is not None else lrecl,
        _int_or_none(header.get("N_OF_OBSERVATIONS"), "N_OF_OBSERVATIONS", path),
        _int_or_none(header.get("N_OF_VARIABLES"), "N_OF_VARIABLES", path),
        dict(header),
    )


def _column_entries(
    text: str, start: int, end: int, entry: re.Pattern[str], path: Path, statement: str
) -> list[tuple[str, int, int, int]]:
    """Consume ``text[start:end]`` as a sequence of ``entry`` matches; anything else is an error."""
    out = []
    pos = start
    blank = re.compile(r"\s*")
    while True:
        pos = blank.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= end or (text[pos] == "." and not text[pos + 1 : pos + 2].strip()):
            break  # end of block (SPSS ends DATA LIST with a lone period)
        m = entry.match(text, pos, end)
        if m is None:
            snippet = text[pos:end].split("\n", 1)[0][:40]
            raise PSIDFormatError(
                f"{path}, line {_line_of(text, pos)}: cannot read {snippet!r} in the {statement} column list "
                "(expected VARIABLE start - end)",
                path=path,
                line=_line_of(text, pos),
            )
        out.append((m.group("name"), int(m.group("start")), int(m.group("end")), _line_of(text, pos)))
        pos = m.end()
    if not out:
        raise PSIDFormatError(f"{path}: the {statement} statement lists no columns", path=path)
    return out


def _quoted_labels(block: str, pattern: re.Pattern[str]) -> dict[str, str]:
    out = {}
    for m in pattern.finditer(block):
        value = m.group("dq") if m.group("dq") is not None else m.group("sq")
        out[m.group("name").upper()] = value.rstrip()
    return out


# ---------------------------------------------------------------------- Stata
_STATA_TYPES = r"(?:(?:byte|int|long|float|double|str\d*)\s+)?"
_DO_ENTRY = re.compile(rf"{_STATA_TYPES}(?P<name>{_NAME})\s+(?P<start>\d+)\s*-\s*(?P<end>\d+)")
_DO_INFIX = re.compile(r"^\s*infix\b(?!\s+(?:dictionary|using)\b)", re.IGNORECASE | re.MULTILINE)
_DO_USING = re.compile(r"\busing\b|;", re.IGNORECASE)
_DO_LABEL = re.compile(
    rf"^\s*label\s+var(?:iable)?\s+(?P<name>{_NAME})\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')",
    re.IGNORECASE | re.MULTILINE,
)
_DO_DCT = re.compile(r"\b(?:infix|infile)\s+(?:dictionary\s+)?using\s+\"?([^\s\";,]+\.dct)\"?", re.IGNORECASE)


def _parse_do(text: str, path: Path) -> Layout:
    header = _header(text)
    labels = _quoted_labels(text, _DO_LABEL)
    m = _DO_INFIX.search(text)
    if m is None:
        dct = _DO_DCT.search(text)
        if dct is None:
            raise PSIDFormatError(
                f"{path}: no infix statement (VARIABLE start - end) and no .dct dictionary; is this a PSID setup file?",
                path=path,
            )
        dct_path = _beside(path, Path(dct.group(1).replace("\\", "/")).name)
        dct_text = dct_path.read_text(encoding="latin-1").replace("\r\n", "\n").replace("\r", "\n")
        return _parse_dct(dct_text, dct_path, labels=labels, header=header)
    stop = _DO_USING.search(text, m.end())
    end = stop.start() if stop else len(text)
    entries = _column_entries(text, m.end(), end, _DO_ENTRY, path, "infix")
    return _build(entries, path, "do", labels, header)


def _beside(path: Path, name: str) -> Path:
    for candidate in path.parent.iterdir():
        if candidate.name.lower() == name.lower():
            return candidate
    raise FileNotFoundError(f"{path} reads the dictionary {name}, which is not beside it")


_DCT_OPEN = re.compile(r"\bdictionary\b[^{]*\{", re.IGNORECASE)
_DCT_COLUMN = re.compile(
    rf"_column\((?P<start>\d+)\)\s+{_STATA_TYPES}(?P<name>{_NAME})\s+%(?P<width>\d+)(?:\.\d+)?[a-z]+"
    r"(?:\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?",
    re.IGNORECASE,
)
_DCT_RANGE = re.compile(
    rf"{_STATA_TYPES}(?P<name>{_NAME})\s+(?P<start>\d+)\s*-\s*(?P<end>\d+)(?:\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?",
    re.IGNORECASE,
)


def _parse_dct(text: str, path: Path, *, labels: Mapping[str, str], header: Mapping[str, str]) -> Layout:
    """A Stata dictionary: ``_column(#) type NAME %wf "label"`` or ``NAME start - end "label"`` lines."""
    m = _DCT_OPEN.search(text)
    close = text.find("}", m.end()) if m else -1
    if m is None or close < 0:
        raise PSIDFormatError(f"{path}: no dictionary {{ ... }} block", path=path)
    entries = []
    own_labels = dict(labels)
    pos = m.end()
    for line in text[m.end() : close].split("\n"):
        stripped = line.strip()
        lineno = _line_of(text, pos)
        pos += len(line) + 1
        if not stripped or stripped.startswith(("*", "//")):
            continue
        hit = _DCT_COLUMN.match(stripped)
        if hit:
            start = int(hit.group("start"))
            entries.append((hit.group("name"), start, start + int(hit.group("width")) - 1, lineno))
        else:
            hit = _DCT_RANGE.match(stripped)
            if hit is None:
                raise PSIDFormatError(f"{path}, line {lineno}: cannot read {stripped[:40]!r}", path=path, line=lineno)
            entries.append((hit.group("name"), int(hit.group("start")), int(hit.group("end")), lineno))
        label = hit.group("dq") if hit.group("dq") is not None else hit.group("sq")
        if label is not None:
            own_labels.setdefault(hit.group("name").upper(), label.rstrip())
    return _build(entries, path, "dct", own_labels, {**_header(text), **header})


# ---------------------------------------------------------------------- SPSS
_SPS_DATA_LIST = re.compile(r"^\s*DATA\s+LIST\b[^/]*/", re.IGNORECASE | re.MULTILINE)
_SPS_END = re.compile(r"^\s*\.\s*$|^\s*EXECUTE\b|^\s*VARIABLE\s+LABELS?\b", re.IGNORECASE | re.MULTILINE)
_SPS_ENTRY = re.compile(
    rf"(?P<name>{_NAME})\s+(?P<start>\d+)\s*-\s*(?P<end>\d+)(?:\s*\([A-Za-z]*\s*,?\s*\d*\))?(?:\s*/)?"
)
_SPS_LABELS = re.compile(r"^\s*VARIABLE\s+LABELS?\b", re.IGNORECASE | re.MULTILINE)
_SPS_LABEL = re.compile(rf"(?P<name>{_NAME})\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")
_LRECL = re.compile(r"\bLRECL\s*=\s*(\d+)", re.IGNORECASE)


def _parse_sps(text: str, path: Path) -> Layout:
    header = _header(text)
    m = _SPS_DATA_LIST.search(text)
    if m is None:
        raise PSIDFormatError(f"{path}: no DATA LIST statement; is this a PSID SPSS setup file?", path=path)
    stop = _SPS_END.search(text, m.end())
    end = stop.start() if stop else len(text)
    entries = _column_entries(text, m.end(), end, _SPS_ENTRY, path, "DATA LIST")
    labels: dict[str, str] = {}
    lab = _SPS_LABELS.search(text)
    if lab is not None:
        lab_end = re.compile(r"^\s*\.\s*$", re.MULTILINE).search(text, lab.end())
        labels = _quoted_labels(text[lab.end() : lab_end.start() if lab_end else len(text)], _SPS_LABEL)
    lrecl = _LRECL.search(text[: m.start()])
    return _build(entries, path, "sps", labels, header, int(lrecl.group(1)) if lrecl else None)


# ---------------------------------------------------------------------- SAS
_SAS_INPUT = re.compile(r"^\s*INPUT\b", re.IGNORECASE | re.MULTILINE)
_SAS_ENTRY = re.compile(rf"(?P<name>{_NAME})\s+(?:\$\s*)?(?P<start>\d+)\s*-\s*(?P<end>\d+)")
_SAS_ATTRIB = re.compile(r"^\s*ATTRIB\b", re.IGNORECASE | re.MULTILINE)
_SAS_ATTRIB_ENTRY = re.compile(
    rf"(?P<name>{_NAME})(?P<attrs>(?:\s+(?:LABEL|FORMAT|INFORMAT|LENGTH)\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s;]+))+)",
    re.IGNORECASE,
)
_SAS_ATTRIB_LABEL = re.compile(r"\bLABEL\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')", re.IGNORECASE)
_SAS_LABEL_STATEMENT = re.compile(r"^\s*LABEL\s+(?!=)", re.IGNORECASE | re.MULTILINE)
_SAS_LABEL = re.compile(rf"(?P<name>{_NAME})\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")
_SAS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def _parse_sas(text: str, path: Path) -> Layout:
    header = _header(text)
    # blank out comments, keeping offsets (and so line numbers) intact
    code = _SAS_COMMENT.sub(lambda c: re.sub(r"[^\n]", " ", c.group(0)), text)
    m = _SAS_INPUT.search(code)
    if m is None:
        raise PSIDFormatError(f"{path}: no INPUT statement; is this a PSID SAS setup file?", path=path)
    stop = code.find(";", m.end())
    entries = _column_entries(code, m.end(), stop if stop >= 0 else len(code), _SAS_ENTRY, path, "INPUT")
    labels: dict[str, str] = {}
    attrib = _SAS_ATTRIB.search(code)
    if attrib is not None:
        block = _sas_statement(code, attrib.end())
        for a in _SAS_ATTRIB_ENTRY.finditer(block):
            lab = _SAS_ATTRIB_LABEL.search(a.group("attrs"))
            if lab is not None:
                value = lab.group("dq") if lab.group("dq") is not None else lab.group("sq")
                labels[a.group("name").upper()] = value.rstrip()
    for statement in _SAS_LABEL_STATEMENT.finditer(code):
        labels.update(_quoted_labels(_sas_statement(code, statement.end()), _SAS_LABEL))
    lrecl = _LRECL.search(code[: m.start()])
    return _build(entries, path, "sas", labels, header, int(lrecl.group(1)) if lrecl else None)


def _sas_statement(code: str, start: int) -> str:
    """Text from ``start`` to the ``;`` that ends the statement, skipping semicolons inside quotes."""
    pos, quote = start, ""
    while pos < len(code):
        ch = code[pos]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == ";":
            break
        pos += 1
    return code[start:pos]


# ---------------------------------------------------------------------- the data
def read_fixed_width(
    path: Path | str, layout: Layout | None = None, columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read a PSID fixed-width file into numbers.

    Parameters
    ----------
    path : path-like
        The data file (``J<jobid>.txt``); LF or CRLF line ends.
    layout : Layout, optional
        Its layout; by default read from the setup file beside it.
    columns : iterable of str, optional
        Variables to convert (default: all). Only these are checked for
        non-numeric values; the row length is always checked against the layout.

    Returns
    -------
    pandas.DataFrame
        One float64 column per variable (NaN where the field is blank), one row
        per line, in file order (``index`` 0 is line 1).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    PSIDFormatError
        On an empty file, a row shorter than the layout, characters beyond the
        layout, a row count different from the header's ``N_OF_OBSERVATIONS``, or
        a field that is not a number (with the variable and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PSID data file {path} does not exist")
    layout = layout if layout is not None else read_layout(path)
    names = list(layout.names) if columns is None else [layout[c].name for c in columns]
    rows = _Rows(path, layout)
    return pd.DataFrame(rows.numbers([layout[name] for name in names]), copy=False)


class _Rows:
    """The lines of a fixed-width file as a byte matrix (or a buffer with line offsets)."""

    def __init__(self, path: Path, layout: Layout) -> None:
        raw = path.read_bytes()
        if not raw.strip():
            raise PSIDFormatError(f"PSID data file {path} is empty", path=path)
        buf = np.frombuffer(raw, dtype=np.uint8)
        newlines = np.flatnonzero(buf == 10)
        ends = newlines if raw.endswith(b"\n") else np.r_[newlines, len(buf)]
        starts = np.r_[0, newlines + 1][: len(ends)]
        lengths = ends - starts
        has_cr = lengths > 0
        has_cr[has_cr] = buf[ends[has_cr] - 1] == 13
        lengths = lengths - has_cr
        while len(lengths) and lengths[-1] == 0:  # trailing blank lines
            starts, lengths = starts[:-1], lengths[:-1]
        self.path, self.layout, self.n = path, layout, len(lengths)
        self._check(buf, starts, lengths)
        stride = int(starts[1] - starts[0]) if self.n > 1 else int(lengths[0]) + 1
        uniform = self.n == 1 or (
            bool((lengths == lengths[0]).all()) and bool((np.diff(starts) == stride).all()) and stride > lengths[0]
        )
        if uniform:
            need = self.n * stride
            padded = buf if len(buf) >= need else np.concatenate([buf, np.full(need - len(buf), 10, np.uint8)])
            self._matrix: np.ndarray | None = padded[:need].reshape(self.n, stride)
        else:
            self._matrix = None
        self._buf, self._starts = buf, starts

    def _check(self, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        layout, width = self.layout, self.layout.width
        short = np.flatnonzero(lengths < width)
        if len(short):
            i = int(short[0])
            cut = next(f for f in layout.fields if f.end > lengths[i])
            raise PSIDFormatError(
                f"{self.path}, line {i + 1}: the row has {int(lengths[i])} characters but the layout{_from(layout)} "
                f"needs {width} (variable {cut.name} is in columns {cut.start} - {cut.end}); "
                f"{len(short)} row(s) are too short: wrong setup file, or a damaged download?",
                path=self.path,
                line=i + 1,
                variable=cut.name,
            )
        for i in np.flatnonzero(lengths > width):
            tail = buf[starts[i] + width : starts[i] + lengths[i]]
            if (tail != 32).any():
                raise PSIDFormatError(
                    f"{self.path}, line {i + 1}: the row has {int(lengths[i])} characters, beyond the {width} the "
                    f"layout{_from(layout)} covers; the setup file does not describe this data file",
                    path=self.path,
                    line=int(i) + 1,
                )
        if layout.n_observations is not None and layout.n_observations != self.n:
            raise PSIDFormatError(
                f"{self.path} has {self.n} rows but the header of {layout.path} declares N_OF_OBSERVATIONS "
                f"{layout.n_observations}: an incomplete download, or the setup file of another extract",
                path=self.path,
            )

    _BLOCK = 16384  # rows per block: a block's bytes, transposed, stay in cache

    def _block(self, a: int, b: int) -> np.ndarray:
        """Rows ``a:b`` as a ``(columns, rows)`` byte matrix (one contiguous row per column)."""
        if self._matrix is not None:
            block = self._matrix[a:b]
        else:
            block = self._buf[self._starts[a:b, None] + np.arange(self.layout.width)[None, :]]
        return np.ascontiguousarray(block.T)

    def chars(self, f: Field) -> np.ndarray:
        """The field's bytes, shape ``(n_rows, width)``."""
        if self._matrix is not None:
            return self._matrix[:, f.start - 1 : f.end]
        return self._buf[self._starts[:, None] + np.arange(f.start - 1, f.end)[None, :]]

    def numbers(self, fields: list[Field]) -> dict[str, np.ndarray]:
        """The fields as float64 (NaN when blank), by blocks of rows; non-numbers raise with the line."""
        out = {f.name: np.empty(self.n, dtype=np.float64) for f in fields}
        general: list[Field] = []
        for a in range(0, self.n, self._BLOCK):
            b = min(a + self._BLOCK, self.n)
            columns = self._block(a, b)
            for f in fields:
                if f in general:
                    continue
                value = _digits(columns[f.start - 1 : f.end])
                if value is None:
                    general.append(f)
                else:
                    out[f.name][a:b] = value
        for f in general:
            out[f.name] = self._general(f, self.chars(f))
        return out

    def _general(self, f: Field, chars: np.ndarray) -> np.ndarray:
        """Fields with signs or decimal points: parse as text, reject anything else."""
        text = pd.Series(np.ascontiguousarray(chars).view(f"S{chars.shape[1]}").ravel()).str.decode("latin-1")
        text = text.str.strip()
        number = text.str.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)")
        values = pd.to_numeric(text.where(number), errors="coerce")
        bad = ~number & (text != "")
        if bad.any():
            self._fail(f, chars, int(np.flatnonzero(bad.to_numpy())[0]))
        return values.to_numpy(dtype=np.float64)

    def _fail(self, f: Field, chars: np.ndarray, i: int) -> None:
        value = bytes(chars[i]).decode("latin-1")
        label = self.layout.label(f.name)
        raise PSIDFormatError(
            f"{self.path}, line {i + 1}: variable {f.name}{f' ({label})' if label else ''} in columns "
            f"{f.start} - {f.end} holds {value!r}, which is not a number",
            path=self.path,
            line=i + 1,
            variable=f.name,
        )


def _digits(columns: np.ndarray) -> np.ndarray | None:
    """Values of a field given as ``(width, rows)`` bytes of blanks and digits; ``None`` if other bytes occur.

    Right-justified numbers (blanks, then digits) are the rule; left-justified ones are accepted. A blank
    between digits also gives ``None``, so that the text path names the offending line.
    """
    digit = (columns >= 48) & (columns <= 57)
    space = columns == 32
    if not (digit | space).all():
        return None
    value = np.zeros(columns.shape[1], dtype=np.float64)
    if not (digit[:-1] & space[1:]).any():  # no blank after a digit: plain place values
        for j in range(columns.shape[0]):
            value = value * 10 + np.where(digit[j], columns[j] - 48.0, 0.0)
    else:
        seen = np.zeros(columns.shape[1], dtype=bool)
        gap = np.zeros(columns.shape[1], dtype=bool)
        for j in range(columns.shape[0]):
            if (gap & digit[j]).any():
                return None  # a blank inside a number: let the text path name the line
            value = np.where(digit[j], value * 10 + (columns[j] - 48.0), value)
            gap |= seen & space[j]
            seen |= digit[j]
    value[~digit.any(axis=0)] = np.nan
    return value
