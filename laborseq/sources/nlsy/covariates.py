"""Covariates of an NLS Investigator export: sex, race, sample per person; region, education, weight per round.

Which columns are covariates is the cohort's choice (a :class:`~laborseq.sources.nlsy.columns.Role`);
this module picks the best column of each kind and round, and decodes the
values (``docs/survey-formats.md``, section C.1.8). NLS missing codes (negative
values) are missing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from laborseq.panel.education import education_from_years
from laborseq.sources.nlsy.columns import ROUND_KINDS, STATIC_KINDS, Cohort, Column, OccupationVariable

REGIONS: dict[int, str] = {1: "northeast", 2: "north_central", 3: "south", 4: "west"}
"""Census regions as coded in NLSY79 ``REGION`` and NLSY97 ``CV_CENSUS_REGION`` (``docs/survey-formats.md``, C.1.8)."""

DEFAULT_WEIGHT_DECIMALS = 2
"""Implied decimal places of NLSY sampling weights when the codebook does not say."""

MAX_GRADE = 20
"""Highest valid grade of the NLS highest-grade-completed variables (95 = ungraded is missing)."""


def covariate_columns(
    columns: Sequence[Column], id_col: Column, occupations: Sequence[OccupationVariable]
) -> tuple[list[Column], list[Column], list[Column]]:
    """Static and per-round covariate columns (best rank per kind and year), and the unused rest."""
    best: dict[tuple[str, int | None], Column] = {}
    used = {id_col.position} | {v.column.position for v in occupations}
    static: list[Column] = []
    for col in columns:
        role = col.role
        if role is None or col.position in used:
            continue
        if role.kind in STATIC_KINDS:
            static.append(col)
        elif role.kind in ROUND_KINDS and col.year is not None:
            key = (role.kind, col.year)
            if key not in best or role.rank < best[key].role.rank:  # type: ignore[union-attr]
                best[key] = col
    static.sort(key=lambda c: (STATIC_KINDS.index(c.role.kind), c.role.rank, c.year or 0))  # type: ignore[union-attr]
    per_round = sorted(best.values(), key=lambda c: (c.year, c.role.kind))  # type: ignore[union-attr]
    used |= {c.position for c in static} | {c.position for c in per_round}
    unused = [c for c in columns if c.position not in used and c.source != "unknown"]
    return static, per_round, unused


def static_covariates(
    ids: np.ndarray, cols: Sequence[Column], values: Mapping[int, np.ndarray], keep: np.ndarray, cohort: Cohort
) -> pd.DataFrame | None:
    """Person-level covariates; where a kind has several columns the first non-missing value wins."""
    if not cols:
        return None
    out: dict[str, pd.Categorical] = {}
    for col in cols:
        name, mapping = cohort.categories[col.role.kind]  # type: ignore[union-attr]
        cat = _categorical(values[col.position][keep], mapping)
        if name in out:  # same mapping, same categories: fill the gaps of the earlier column
            codes = np.where(out[name].codes >= 0, out[name].codes, cat.codes)
            cat = pd.Categorical.from_codes(codes, categories=cat.categories)
        out[name] = cat
    return pd.DataFrame(out, index=pd.Index(ids, name="person_id"))


def round_covariates(
    ids: np.ndarray,
    cols: Sequence[Column],
    values: Mapping[int, np.ndarray],
    keep: np.ndarray,
    cohort: Cohort,
    occupations: Sequence[OccupationVariable],
) -> tuple[pd.DataFrame | None, str | None, dict[str, Any] | None]:
    """Per-round covariates indexed by (person_id, year), and the weight column if it can be the panel weight."""
    if not cols:
        return None, None, None
    years = sorted({c.year for c in cols})  # type: ignore[type-var]
    m = len(ids)
    where = {y: slice(i * m, (i + 1) * m) for i, y in enumerate(years)}
    index = pd.MultiIndex(  # ids are unique: build the codes instead of factorizing 20M keys
        levels=[pd.Index(ids), pd.Index(np.array(years, dtype=np.int16))],
        codes=[np.tile(np.arange(m, dtype=np.int32), len(years)), np.repeat(np.arange(len(years), dtype=np.int16), m)],
        names=["person_id", "year"],
        verify_integrity=False,
    )
    frame = pd.DataFrame(index=index)
    weights: dict[int, np.ndarray] = {}
    note: dict[str, Any] | None = None
    for kind in ROUND_KINDS:
        kind_cols = [c for c in cols if c.role.kind == kind]  # type: ignore[union-attr]
        if not kind_cols:
            continue
        if kind == "weight":
            data = np.full(m * len(years), np.nan)
            decimals = {}
            for c in kind_cols:
                raw = values[c.position][keep]
                places = DEFAULT_WEIGHT_DECIMALS if c.implied_decimals is None else c.implied_decimals
                decimals[c.described] = places
                weights[c.year] = np.where(raw >= 0, raw.astype(np.float64) / 10**places, np.nan)  # type: ignore[index]
                data[where[c.year]] = weights[c.year]  # type: ignore[index]
            note = {"variables": decimals, "rule": "negative values are missing; divided by 10**implied decimals"}
            frame["weight"] = data
            continue
        codes = np.full(m * len(years), np.nan, dtype=np.float32)
        for c in kind_cols:
            codes[where[c.year]] = values[c.position][keep]  # type: ignore[index]
        if kind == "region":
            frame["region"] = _categorical(codes, cohort.categories["region"][1])
        else:
            frame["education"] = _education(codes)
    weight = None
    if weights:
        gaps = _unweighted_candidates(occupations, values, keep, weights)
        if gaps:
            frame = frame.rename(columns={"weight": "sampling_weight"})
            note["used_as"] = "covariate sampling_weight"  # type: ignore[index]
            note["reason"] = (  # type: ignore[index]
                f"{gaps} person-year(s) with an occupation code have no valid weight of their round "
                f"(e.g. rounds without a weight variable); the panel has no weight"
            )
        else:
            weight = "weight"
            note["used_as"] = "panel weight"  # type: ignore[index]
    return frame, weight, note


def _unweighted_candidates(
    occupations: Sequence[OccupationVariable],
    values: Mapping[int, np.ndarray],
    keep: np.ndarray,
    weights: Mapping[int, np.ndarray],
) -> int:
    """Person-years with a non-missing occupation code but no valid weight of their round."""
    coded: dict[int, np.ndarray] = {}
    for var in occupations:
        has_code = values[var.column.position][keep] >= 0
        coded[var.year] = coded[var.year] | has_code if var.year in coded else has_code
    gaps = 0
    for year, has_code in coded.items():
        w = weights.get(year)
        gaps += int(has_code.sum()) if w is None else int((has_code & np.isnan(w)).sum())
    return gaps


def _categorical(values: np.ndarray, mapping: Mapping[int, str]) -> pd.Categorical:
    """Integer codes -> labels (anything else, including NLS missing codes, is missing)."""
    labels = list(dict.fromkeys(mapping.values()))
    top = max(mapping)
    lut = np.full(top + 1, -1, dtype=np.int8)
    for code, label in mapping.items():
        lut[code] = labels.index(label)
    ok = np.isfinite(values) & (values >= 0) & (values <= top) & (values == np.floor(values))
    codes = np.full(len(values), -1, dtype=np.int8)
    codes[ok] = lut[values[ok].astype(np.int64)]
    return pd.Categorical.from_codes(codes, categories=labels)


def _education(values: np.ndarray) -> pd.Categorical:
    """Highest grade completed (0-20; 95 ungraded and NLS missing codes are missing) -> education level.

    :func:`~laborseq.panel.education.education_from_years` is applied to the
    21 possible grades once and the result looked up per row.
    """
    levels = education_from_years(pd.Series(np.arange(MAX_GRADE + 1, dtype=float)))
    lut = np.asarray(levels.cat.codes, dtype=np.int8)
    ok = np.isfinite(values) & (values >= 0) & (values <= MAX_GRADE) & (values == np.floor(values))
    codes = np.full(len(values), -1, dtype=np.int8)
    codes[ok] = lut[values[ok].astype(np.int64)]
    return pd.Categorical.from_codes(codes, dtype=levels.dtype)
