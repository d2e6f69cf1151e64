"""Pieces of setup-program syntax shared by the Stata, SPSS and SAS parsers.

Every PSID setup program (``docs/survey-formats.md``, section C.2.2) may open
with a comment block of ``KEY : value`` lines (the Data Center header: JOBID,
N_OF_VARIABLES, N_OF_OBSERVATIONS, MAX_REC_LENGTH), lists the variables as
``NAME start - end`` entries and gives quoted labels. :func:`build_layout`
turns the parsed entries into a validated
:class:`~laborseq.sources.psid.layout.Layout`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from laborseq.sources.psid.layout import Field, Layout, PSIDFormatError, SetupKind

NAME = r"[A-Za-z_@#$][A-Za-z0-9_@#$.]*"
"""A variable name in a setup program (regular expression)."""
_HEADER_LINE = re.compile(r"^[\s*/]*([A-Za-z][A-Za-z_ &#]*?)\s*:\s*(.*?)\s*$", re.MULTILINE)
_STATEMENT = re.compile(
    r"^\s*(?:infix|infile|FILE\s+HANDLE|DATA\s+LIST|FILENAME|DATA\s|ATTRIB|INPUT|label\s+var|VARIABLE\s+LABELS?)\b",
    re.IGNORECASE | re.MULTILINE,
)


def line_of(text: str, pos: int) -> int:
    """1-based line number of offset ``pos`` in ``text``."""
    return text.count("\n", 0, pos) + 1


def header_block(text: str) -> dict[str, str]:
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


def build_layout(
    entries: list[tuple[str, int, int, int]],
    path: Path,
    kind: SetupKind,
    labels: Mapping[str, str],
    header: Mapping[str, str],
    lrecl: int | None = None,
) -> Layout:
    """A validated :class:`~laborseq.sources.psid.layout.Layout` from ``(name, start, end, line)`` entries.

    ``header`` is the setup program's header block: its ``MAX_REC_LENGTH``,
    ``N_OF_OBSERVATIONS`` and ``N_OF_VARIABLES`` are checked against the layout
    (and the data), as is ``lrecl``, the record length the statements declare.
    """
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


def column_entries(
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
                f"{path}, line {line_of(text, pos)}: cannot read {snippet!r} in the {statement} column list "
                "(expected VARIABLE start - end)",
                path=path,
                line=line_of(text, pos),
            )
        out.append((m.group("name"), int(m.group("start")), int(m.group("end")), line_of(text, pos)))
        pos = m.end()
    if not out:
        raise PSIDFormatError(f"{path}: the {statement} statement lists no columns", path=path)
    return out


def quoted_labels(block: str, pattern: re.Pattern[str]) -> dict[str, str]:
    out = {}
    for m in pattern.finditer(block):
        value = m.group("dq") if m.group("dq") is not None else m.group("sq")
        out[m.group("name").upper()] = value.rstrip()
    return out


LRECL = re.compile(r"\bLRECL\s*=\s*(\d+)", re.IGNORECASE)
"""The record length an SPSS or SAS program declares (``LRECL = n``)."""
