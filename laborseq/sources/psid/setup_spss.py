"""SPSS setup programs of PSID files (``.sps``): ``DATA LIST`` column ranges and ``VARIABLE LABELS``.

``DATA LIST FILE = ... FIXED /`` is followed by ``VAR start - end`` entries
(optionally with a format in parentheses) up to a lone period, then
``VARIABLE LABELS VAR "..."`` (``docs/survey-formats.md``, section C.2.2).
"""

from __future__ import annotations

import re
from pathlib import Path

from laborseq.sources.psid.layout import Layout, PSIDFormatError
from laborseq.sources.psid.setup_syntax import LRECL, NAME, build_layout, column_entries, header_block, quoted_labels

_SPS_DATA_LIST = re.compile(r"^\s*DATA\s+LIST\b[^/]*/", re.IGNORECASE | re.MULTILINE)
_SPS_END = re.compile(r"^\s*\.\s*$|^\s*EXECUTE\b|^\s*VARIABLE\s+LABELS?\b", re.IGNORECASE | re.MULTILINE)
_SPS_ENTRY = re.compile(
    rf"(?P<name>{NAME})\s+(?P<start>\d+)\s*-\s*(?P<end>\d+)(?:\s*\([A-Za-z]*\s*,?\s*\d*\))?(?:\s*/)?"
)
_SPS_LABELS = re.compile(r"^\s*VARIABLE\s+LABELS?\b", re.IGNORECASE | re.MULTILINE)
_SPS_LABEL = re.compile(rf"(?P<name>{NAME})\s+(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")


def parse_sps(text: str, path: Path) -> Layout:
    """The layout of an SPSS setup program ``text`` (read from ``path``)."""
    header = header_block(text)
    m = _SPS_DATA_LIST.search(text)
    if m is None:
        raise PSIDFormatError(f"{path}: no DATA LIST statement; is this a PSID SPSS setup file?", path=path)
    stop = _SPS_END.search(text, m.end())
    end = stop.start() if stop else len(text)
    entries = column_entries(text, m.end(), end, _SPS_ENTRY, path, "DATA LIST")
    labels: dict[str, str] = {}
    lab = _SPS_LABELS.search(text)
    if lab is not None:
        lab_end = re.compile(r"^\s*\.\s*$", re.MULTILINE).search(text, lab.end())
        labels = quoted_labels(text[lab.end() : lab_end.start() if lab_end else len(text)], _SPS_LABEL)
    lrecl = LRECL.search(text[: m.start()])
    return build_layout(entries, path, "sps", labels, header, int(lrecl.group(1)) if lrecl else None)
