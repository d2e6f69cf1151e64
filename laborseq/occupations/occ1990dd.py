"""The occ1990dd occupation scheme (Autor and Dorn 2013; Deming 2017 variant).

occ1990dd is the harmonised occupation classification of Dorn (2009) and
Autor and Dorn (2013, AER 103(5)): about 330 occupations built on the 1990
Census codes, reachable from the 1970, 1980, 1990, 2000 and 2010 Census frames
through crosswalks. Deming (2017, QJE 132(4)) updated it to 341 codes. The two
families disagree on many source codes, so a panel uses one of them and records
which (``scheme.variant``). The tables ship in ``laborseq/resources/taxonomy``
with their provenance (``PROVENANCE.md`` there); cite the papers when you use them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import pandas as pd

from laborseq.occupations.scheme import STATUS_TOKENS, OccupationScheme

Variant = Literal["dorn2013", "deming2017"]
VARIANTS: tuple[str, ...] = ("dorn2013", "deming2017")

SPECIAL_TARGETS: dict[int, str | None] = {905: "military", 991: "unemployed", 999: None}
"""occ1990dd special codes: 905 military and 991 unemployed become status tokens;
999 (no occupation / not available) becomes a missing state."""

DORN_ALIASES: dict[int, int] = {874: 873}
"""Dorn's occ1990 file maps 1990 code 873 to 874 and 874 to 873; Dorn's scheme calls
production helpers 873, so 874 is an alias of 873 in the dorn2013 family."""

_SOURCES = {
    "dorn2013": "Autor and Dorn (2013, AER 103(5)) occ1990dd; titles from Deming (2017) and IPUMS OCC1990",
    "deming2017": "Deming (2017, QJE 132(4)) update of occ1990dd (341 codes)",
}


def taxonomy_file(name: str) -> pd.DataFrame:
    """Read a CSV shipped in ``laborseq/resources/taxonomy``."""
    path = resources.files("laborseq") / "resources" / "taxonomy" / name
    with path.open("rb") as handle:
        return pd.read_csv(handle)


def check_variant(variant: str) -> Variant:
    """Validate a variant name."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown occ1990dd variant {variant!r}; choose from {VARIANTS}")
    return variant  # type: ignore[return-value]


@cache
def occ1990dd(variant: Variant = "dorn2013") -> OccupationScheme:
    """The occ1990dd scheme of the chosen family.

    Parameters
    ----------
    variant : {"dorn2013", "deming2017"}
        ``"dorn2013"`` (default, canonical): the Autor-Dorn codes (330, with 874
        folded into 873); ``"deming2017"``: Deming's 341 codes.

    Returns
    -------
    OccupationScheme
        Codes as strings (``"4"`` ... ``"889"``), titles, grouping levels
        ``major_group`` (16 groups), ``ad_group`` and ``ad_subgroup`` (Autor-Dorn
        broad groups, absent for Deming-only codes), and the status tokens
        ``unemployed``, ``out_of_labor_force``, ``in_school``, ``military``.
    """
    variant = check_variant(variant)
    titles = taxonomy_file("occ1990dd_titles.csv")
    titles = titles[titles[f"in_{variant}"].astype(bool)]
    if variant == "dorn2013":
        titles = titles[~titles["code"].isin(list(DORN_ALIASES))]
    codes = [str(c) for c in titles["code"]]
    groups: dict[str, dict[str, str]] = {}
    for level in ("major_group", "ad_group", "ad_subgroup"):
        values = titles[level]
        groups[level] = {str(c): str(g) for c, g in zip(titles["code"], values, strict=True) if pd.notna(g)}
    return OccupationScheme(
        name="occ1990dd",
        codes=tuple(codes),
        titles=dict(zip(codes, titles["title"].astype(str), strict=True)),
        groups=groups,
        status_tokens=STATUS_TOKENS,
        variant=variant,
        source=_SOURCES[variant],
    )
