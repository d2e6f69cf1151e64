"""SAS setup programs of PSID files (``.sas``): ``ATTRIB`` labels and ``INPUT`` column ranges.

``ATTRIB VAR LABEL="..." format=f3.`` entries give the labels (``LABEL``
statements are read too), ``INPUT VAR start - end`` the columns; comments
``/* ... */`` are ignored (``docs/survey-formats.md``, section C.2.2).
"""

from __future__ import annotations

import re
from pathlib import Path

from laborseq.sources.psid.layout import Layout, PSIDFormatError
from laborseq.sources.psid.setup_syntax import LRECL, NAME, build_layout, column_entries, header_block, quoted_labels

_SAS_INPUT = re.compile(r"^\s*INPUT\b", re.IGNORECASE | re.MULTILINE)
_SAS_ENTRY = re.compile(rf"(?P<name>{NAME})\s+(?:\$\s*)?(?P<start>\d+)\s*-\s*(?P<end>\d+)")
_SAS_ATTRIB = re.compile(r"^\s*ATTRIB\b", re.IGNORECASE | re.MULTILINE)
_SAS_ATTRIB_ENTRY = re.compile(
    rf"(?P<name>{NAME})(?P<attrs>(?:\s+(?:LABEL|FORMAT|INFORMAT|LENGTH)\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s;]+))+)",
    re.IGNORECASE,
)
_SAS_ATTRIB_LABEL = re.compile(r"\bLABEL\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')", re.IGNORECASE)
_SAS_LABEL_STATEMENT = re.compile(r"^\s*LABEL\s+(?!=)", re.IGNORECASE | re.MULTILINE)
_SAS_LABEL = re.compile(rf"(?P<name>{NAME})\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")
_SAS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def parse_sas(text: str, path: Path) -> Layout:
    """The layout of a SAS setup program ``text`` (read from ``path``)."""
    header = header_block(text)
    # blank out comments, keeping offsets (and so line numbers) intact
    code = _SAS_COMMENT.sub(lambda c: re.sub(r"[^\n]", " ", c.group(0)), text)
    m = _SAS_INPUT.search(code)
    if m is None:
        raise PSIDFormatError(f"{path}: no INPUT statement; is this a PSID SAS setup file?", path=path)
    stop = code.find(";", m.end())
    entries = column_entries(code, m.end(), stop if stop >= 0 else len(code), _SAS_ENTRY, path, "INPUT")
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
        labels.update(quoted_labels(_sas_statement(code, statement.end()), _SAS_LABEL))
    lrecl = LRECL.search(code[: m.start()])
    return build_layout(entries, path, "sas", labels, header, int(lrecl.group(1)) if lrecl else None)


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
