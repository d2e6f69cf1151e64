"""The published crosswalk files of the two occ1990dd families, and moving a target between the families.

Autor and Dorn (2013) and Deming (2017) published one crosswalk per source
frame; their targets differ (Deming splits some Dorn codes and drops others).
:func:`file_mapping` reads a family's file as published; :func:`to_variant`
moves a target into the chosen family through the 1990 Census codes both
families map (see ``PROVENANCE.md``, section B.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import pandas as pd

from laborseq.occupations.occ1990dd import DORN_ALIASES, SPECIAL_TARGETS, Variant, occ1990dd, taxonomy_file

FILES: dict[tuple[str, str], str] = {
    ("occ1970", "dorn2013"): "crosswalk_occ1970_occ1990dd.csv",
    ("occ1990", "dorn2013"): "crosswalk_occ1990_occ1990dd.csv",
    ("occ2000", "dorn2013"): "crosswalk_occ2000_occ1990dd.csv",
    ("occ2010", "dorn2013"): "crosswalk_occ2010_occ1990dd.csv",
    ("occ1970", "deming2017"): "crosswalk_occ1970_occ1990dd_deming2017.csv",
    ("occ1980", "deming2017"): "crosswalk_occ1980_occ1990dd_deming2017.csv",
    ("occ1990", "deming2017"): "crosswalk_occ1990_occ1990dd_deming2017.csv",
    ("occ2000", "deming2017"): "crosswalk_occ2000_occ1990dd_deming2017.csv",
    ("occ2005", "deming2017"): "crosswalk_occ2005_occ1990dd_deming2017.csv",
    ("occ2010", "deming2017"): "crosswalk_occ2010_occ1990dd_deming2017.csv",
}
"""The shipped crosswalk file of each (frame, family)."""

FAMILY_NAMES = {"dorn2013": "Autor-Dorn (2013)", "deming2017": "Deming (2017)"}


@cache
def file_mapping(frame: str, family: str) -> Mapping[int, int] | None:
    """Source code -> occ1990dd code as the family's file for ``frame`` publishes it (read-only; ``None``: no file)."""
    name = FILES.get((frame, family))
    if name is None:
        return None
    table = taxonomy_file(name)
    return MappingProxyType(dict(zip(table["from_code"].astype(int), table["occ1990dd"].astype(int), strict=True)))


def to_variant(target: int, variant: Variant) -> int:
    """An occ1990dd code of either family as a code of ``variant`` (special targets unchanged).

    Deming-only codes go to the Autor-Dorn code most of their 1990 Census codes
    reach, Dorn-only codes to the Deming code most of theirs reach (ties: the
    smaller code); in the dorn2013 family 874 is 873.
    """
    if target in SPECIAL_TARGETS:
        return target
    if variant == "dorn2013":
        target = _between_families("deming2017", "dorn2013").get(target, target)
        return DORN_ALIASES.get(target, target)
    return _between_families("dorn2013", "deming2017").get(DORN_ALIASES.get(target, target), target)


@cache
def _between_families(source: Variant, target: Variant) -> dict[int, int]:
    """Codes of ``source`` that ``target`` lacks -> the ``target`` code most 1990 Census codes share with them."""
    files = {v: file_mapping("occ1990", v) for v in (source, target)}
    both = pd.DataFrame({v: pd.Series(dict(files[v] or {})) for v in files}).dropna().astype(int)
    both = both.replace({v: DORN_ALIASES for v in files if v == "dorn2013"})
    known = {int(c) for c in occ1990dd(target).codes}
    out: dict[int, int] = {}
    for code, group in both.groupby(source):
        if int(code) not in known and int(code) not in SPECIAL_TARGETS:
            counts = group[target].value_counts()
            out[int(code)] = int(min(counts[counts == counts.iloc[0]].index))
    return out


def deming_to_dorn() -> dict[int, int]:
    """Deming-only occ1990dd codes -> the Autor-Dorn code most 1990 Census codes share with them."""
    return _between_families("deming2017", "dorn2013")
