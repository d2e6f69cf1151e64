"""The official Census occupation code lists of each source frame, and how the ACS folded some codes.

A crosswalk file lists the codes its author mapped; the official list of a
frame says which codes exist. Comparing the two separates "a valid code the
crosswalk lacks" from "not a code of this frame" (a code from another frame,
or a typo). The lists ship in ``laborseq/resources/taxonomy`` as
``census_codes_<frame>.csv`` (``code``, ``title``, ``kind``: ``occupation``,
``military`` or ``non_occupation``), with their sources in ``PROVENANCE.md``.
No complete official 1970 list was found, so the 1970 frame has none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import pandas as pd

from laborseq.occupations.occ1990dd import taxonomy_file

CODE_LIST_FRAMES: tuple[str, ...] = ("occ1980", "occ1990", "occ2000", "occ2000_4digit", "occ2005", "occ2010")
"""Frames with an official code list."""

KINDS: tuple[str, ...] = ("occupation", "military", "non_occupation")


def census_codes(frame: str) -> pd.DataFrame | None:
    """The official code list of ``frame`` (``code``, ``title``, ``kind``; a copy), or ``None`` when none ships."""
    table = _census_codes(frame)
    return None if table is None else table.copy()


@cache
def _census_codes(frame: str) -> pd.DataFrame | None:
    if frame not in CODE_LIST_FRAMES:
        return None
    table = taxonomy_file(f"census_codes_{frame}.csv")
    table["code"] = table["code"].astype(int)
    unknown = set(table["kind"]) - set(KINDS)
    if unknown or not table["code"].is_unique:  # pragma: no cover - guarded by tests on the shipped files
        raise AssertionError(f"census_codes_{frame}.csv: kinds {sorted(unknown)} or repeated codes")
    return table


@cache
def acs_folds() -> Mapping[int, tuple[int, str]]:
    """Census 2000 codes the ACS 2005-2009 PUMS list folds into a broader code whose title names them.

    Returns ``{2000 code: (ACS code, ACS title)}``, e.g. ``121 -> (124, "MISCELLANEOUS MATHEMATICAL
    SCIENCE OCCUPATIONS, INCLUDING MATHEMATICIANS AND STATISTICIANS")``.
    """
    table = taxonomy_file("census_folds_occ2000_acs2005.csv")
    columns = (table["occ2000"], table["acs2005"], table["acs2005_title"])
    return MappingProxyType({int(a): (int(b), str(t)) for a, b, t in zip(*columns, strict=True)})


def normalize_title(title: str) -> str:
    """A title in one spelling for comparison: lower-case letters and digits only, plurals singular
    (``"Apparel and fabric pattern makers"`` and ``"Apparel and Fabric Patternmakers"`` agree)."""
    words = re.findall(r"[a-z0-9]+", str(title).lower())
    return "".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


@cache
def titles(frame: str) -> Mapping[int, str]:
    """Normalized titles of the official list of ``frame`` (empty without a list; read-only)."""
    table = _census_codes(frame)
    if table is None:
        return MappingProxyType({})
    return MappingProxyType({int(c): normalize_title(t) for c, t in zip(table["code"], table["title"], strict=True)})
