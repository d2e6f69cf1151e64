"""Stata setup programs of PSID files: ``.do`` with an ``infix`` statement, or a ``.dct`` dictionary.

The Data Center's ``.do`` has a header block, ``infix`` with ``VAR start - end``
(optionally typed: ``long V1191 46 - 50``; ranges only, a one-column field is
written ``5 - 5``), then ``label variable VAR "..."``. A packaged file's ``.do``
may instead read a ``.dct`` dictionary beside it, with ``_column(#) type NAME
%wf "label"`` or ``NAME start - end "label"`` lines (``docs/survey-formats.md``,
section C.2.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from laborseq.sources.psid.layout import Layout, PSIDFormatError
from laborseq.sources.psid.setup_syntax import NAME, build_layout, column_entries, header_block, line_of, quoted_labels

_STATA_TYPES = r"(?:(?:byte|int|long|float|double|str\d*)\s+)?"
_DO_ENTRY = re.compile(rf"{_STATA_TYPES}(?P<name>{NAME})\s+(?P<start>\d+)\s*-\s*(?P<end>\d+)")
_DO_INFIX = re.compile(r"^\s*infix\b(?!\s+(?:dictionary|using)\b)", re.IGNORECASE | re.MULTILINE)
_DO_USING = re.compile(r"\busing\b|;", re.IGNORECASE)
_DO_LABEL = re.compile(
    rf"^\s*label\s+var(?:iable)?\s+(?P<name>{NAME})\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')",
    re.IGNORECASE | re.MULTILINE,
)
_DO_DCT = re.compile(r"\b(?:infix|infile)\s+(?:dictionary\s+)?using\s+\"?([^\s\";,]+\.dct)\"?", re.IGNORECASE)


def parse_do(text: str, path: Path) -> Layout:
    """The layout of a Stata ``.do`` (read from ``path``): its ``infix`` statement, or the ``.dct`` it reads."""
    header = header_block(text)
    labels = quoted_labels(text, _DO_LABEL)
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
        return parse_dct(dct_text, dct_path, labels=labels, header=header)
    stop = _DO_USING.search(text, m.end())
    end = stop.start() if stop else len(text)
    entries = column_entries(text, m.end(), end, _DO_ENTRY, path, "infix")
    return build_layout(entries, path, "do", labels, header)


def _beside(path: Path, name: str) -> Path:
    for candidate in path.parent.iterdir():
        if candidate.name.lower() == name.lower():
            return candidate
    raise FileNotFoundError(f"{path} reads the dictionary {name}, which is not beside it")


_DCT_OPEN = re.compile(r"\bdictionary\b[^{]*\{", re.IGNORECASE)
_DCT_COLUMN = re.compile(
    rf"_column\((?P<start>\d+)\)\s+{_STATA_TYPES}(?P<name>{NAME})\s+%(?P<width>\d+)(?:\.\d+)?[a-z]+"
    r"(?:\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?",
    re.IGNORECASE,
)
_DCT_RANGE = re.compile(
    rf"{_STATA_TYPES}(?P<name>{NAME})\s+(?P<start>\d+)\s*-\s*(?P<end>\d+)(?:\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?",
    re.IGNORECASE,
)


def parse_dct(text: str, path: Path, *, labels: Mapping[str, str], header: Mapping[str, str]) -> Layout:
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
        lineno = line_of(text, pos)
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
    return build_layout(entries, path, "dct", own_labels, {**header_block(text), **header})
