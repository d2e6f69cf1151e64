"""Valid Census codes a family's crosswalk lacks, filled from sourced relations.

Dorn's and Deming's crosswalks were built for particular samples (the ACS
folds some Census 2000 codes into broader ones, Dorn's 2000 file lacks seven
codes Deming's has), so a valid code of a frame's official list can be missing
from them. :func:`fills` maps such codes by documented rules, tried in order,
each giving the rule as the fill's source (counted as its own lineage step
when a reader uses it):

1. the other family's crosswalk of the same frame, moved to this family
   (:func:`~laborseq.occupations.crosswalk_files.to_variant`);
2. Census 2000 codes: the same code in the ACS 2005-2009 list (Deming's occ2005
   crosswalk), else the ACS code that folds it in, whose official title names it
   (``census_folds_occ2000_acs2005.csv``);
3. Census 2010 codes: the same code with the same title in the Census 2002
   4-digit list (or, for codes ending in 0, in the 3-digit 2000 list), mapped as
   that 2000 code;
4. Census 1990 codes: the same code with the same title in the 1980 list,
   mapped by the 1980 crosswalk;
5. last, a published researcher's recode of the code to a neighbouring code of
   the same frame, or to an occ1990dd code (``census_recodes.csv``, each row
   with its source).

Codes no rule reaches stay unmapped, and the crosswalk says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType

import pandas as pd

from laborseq.occupations.code_lists import acs_folds, census_codes, titles
from laborseq.occupations.crosswalk_files import FAMILY_NAMES, file_mapping, to_variant
from laborseq.occupations.occ1990dd import Variant, taxonomy_file

Fill = tuple[int, str, str]
"""(occ1990dd code of the variant, source of the mapping (the rule), detail for this code)."""


def fills(frame: str, variant: Variant, own: Mapping[int, int]) -> dict[int, Fill]:
    """Fills for the codes of ``frame`` that ``own`` (code -> target) lacks.

    Parameters
    ----------
    frame : str
        Source frame.
    variant : {"dorn2013", "deming2017"}
        Family of the targets.
    own : mapping of int to int
        The crosswalk being filled (its codes are not filled), in the units of
        the frame (4-digit codes for ``occ2000_4digit``).

    Returns
    -------
    dict
        Code -> (target, source, detail) for every code a rule reaches.
    """
    wanted = _wanted(frame, variant, own)
    rules = _RULES.get(frame, ())
    out: dict[int, Fill] = {}
    for code in sorted(wanted):
        for rule in rules:
            found = rule(code, variant)
            if found is not None:
                out[code] = found
                break
    return out


def _wanted(frame: str, variant: Variant, own: Mapping[int, int]) -> set[int]:
    """Codes that need a fill: occupation codes of the official list (or, without one, of the other family's file)."""
    listed = census_codes(frame)
    if listed is not None:
        codes = set(listed.loc[listed["kind"] == "occupation", "code"].astype(int))
    else:
        other = file_mapping(frame, _other(variant)) or {}
        codes = set(other)
    return {c for c in codes if c not in own}


def _other(variant: Variant) -> Variant:
    return "deming2017" if variant == "dorn2013" else "dorn2013"


# ---------------------------------------------------------------------- rules
def _other_family(frame: str) -> Callable[[int, Variant], Fill | None]:
    def rule(code: int, variant: Variant) -> Fill | None:
        other = _other(variant)
        target = (file_mapping(frame, other) or {}).get(code)
        if target is None:
            return None
        return to_variant(target, variant), f"filled from the {FAMILY_NAMES[other]} {frame} crosswalk", f"{target}"

    return rule


def _acs_same_code(code: int, variant: Variant) -> Fill | None:
    target = (file_mapping("occ2005", "deming2017") or {}).get(code)
    if target is None:
        return None
    source = "filled through the ACS 2005-2009 list"
    return to_variant(target, variant), source, f"same code in Deming's occ2005 crosswalk ({target})"


def _acs_fold(code: int, variant: Variant) -> Fill | None:
    fold = acs_folds().get(code)
    if fold is None:
        return None
    broader, title = fold
    target = published("occ2000", variant).get(broader)
    if target is None:
        found = _other_family("occ2000")(broader, variant) or _acs_same_code(broader, variant)
        target = None if found is None else found[0]
    if target is None:
        return None
    return target, "filled through the ACS 2005-2009 list", f"the ACS folds it into {broader} ({title})"


def _same_title(source: str, earlier: str, scale: int = 1) -> Callable[[int, Variant], Fill | None]:
    """Rule: the code with the same title in an earlier frame's list (whose codes are ``scale`` times smaller)."""

    def rule(code: int, variant: Variant) -> Fill | None:
        if code % scale:
            return None
        before = code // scale
        mine, theirs = titles(source).get(code), titles(earlier).get(before)
        if mine is None or mine != theirs:
            return None
        target = full_mapping(earlier, variant).get(before)
        if target is None:
            return None
        return target, f"filled as the {earlier} code of the same title", f"{earlier} code {before}"

    return rule


def _recode(frame: str) -> Callable[[int, Variant], Fill | None]:
    """Rule: a published recode to another code of the frame (mapped by this family's file) or to an occ1990dd code."""

    def rule(code: int, variant: Variant) -> Fill | None:
        row = recodes().get((frame, code))
        if row is None:
            return None
        via, target, source = row
        if via is not None:
            found = published(frame, variant).get(via)
            if found is None:
                return None
            return found, "filled from a published recode", f"as {frame} code {via}: {source}"
        return to_variant(int(target), variant), "filled from a published recode", source  # type: ignore[arg-type]

    return rule


@cache
def recodes() -> dict[tuple[str, int], tuple[int | None, int | None, str]]:
    """``census_recodes.csv``: (frame, code) -> (code of the same frame, or None; occ1990dd code, or None; source)."""
    table = taxonomy_file("census_recodes.csv")
    out = {}
    for frame, code, via, target, source in table[["frame", "code", "via_code", "occ1990dd", "source"]].itertuples(
        index=False
    ):
        out[str(frame), int(code)] = (
            None if pd.isna(via) else int(via),
            None if pd.isna(target) else int(target),
            str(source),
        )
    return out


_RULES: dict[str, tuple[Callable[[int, Variant], Fill | None], ...]] = {
    "occ1970": (_other_family("occ1970"),),
    "occ1990": (_other_family("occ1990"), _same_title("occ1990", "occ1980")),
    "occ2000": (_other_family("occ2000"), _acs_same_code, _acs_fold, _recode("occ2000")),
    "occ2010": (
        _other_family("occ2010"),
        _same_title("occ2010", "occ2000_4digit"),
        _same_title("occ2010", "occ2000", 10),
        _recode("occ2010"),
    ),
}


@cache
def full_mapping(frame: str, variant: Variant) -> Mapping[int, int]:
    """Code -> target of a frame's crosswalk for ``variant``: the file (moved to the family) and its fills.

    ``occ2000_4digit`` codes are the 3-digit codes times ten; ``occ1980`` and
    ``occ2005`` have only Deming's file.
    """
    if frame == "occ2000_4digit":
        return MappingProxyType({code * 10: target for code, target in full_mapping("occ2000", variant).items()})
    return MappingProxyType(
        {**published(frame, variant), **{c: f[0] for c, f in published_fills(frame, variant).items()}}
    )


@cache
def published_fills(frame: str, variant: Variant) -> Mapping[int, Fill]:
    """:func:`fills` of the family's published file for ``frame`` (read-only, computed once)."""
    return MappingProxyType(fills(frame, variant, published(frame, variant)))


@cache
def published(frame: str, variant: Variant) -> Mapping[int, int]:
    """Code -> target of the family's published file for ``frame`` (Deming's where the family has none), moved to
    ``variant``."""
    table = file_mapping(frame, variant) or file_mapping(frame, "deming2017") or {}
    return MappingProxyType({code: to_variant(target, variant) for code, target in table.items()})
