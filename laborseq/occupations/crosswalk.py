"""Crosswalks from Census occupation frames to occ1990dd.

A :class:`Crosswalk` maps the integer codes of one source frame (Census 1970,
1980, 1990, 2000, 2005, 2010, or the 4-digit 2000-based codes of late NLSY
rounds) to states of an occ1990dd scheme. Applying it never drops a code
silently: each code either maps to a state, maps to "no occupation" (a missing
state with its reason), or is reported as unmapped with its count and rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborseq.occupations.occ1990dd import (
    DORN_ALIASES,
    SPECIAL_TARGETS,
    Variant,
    check_variant,
    occ1990dd,
    taxonomy_file,
)
from laborseq.occupations.scheme import OccupationScheme

Frame = Literal["occ1970", "occ1980", "occ1990", "occ2000", "occ2000_4digit", "occ2005", "occ2010", "occ1990dd"]
FRAMES: tuple[str, ...] = (
    "occ1970",
    "occ1980",
    "occ1990",
    "occ2000",
    "occ2000_4digit",
    "occ2005",
    "occ2010",
    "occ1990dd",
)

OnUnmapped = Literal["drop", "raise"]

# Outcome of each code, as small integers (arrays of 10^7 codes stay compact).
MAPPED, NO_OCCUPATION, UNMAPPED, MISSING_CODE = 0, 1, 2, 3

MILITARY_2000 = (980, 981, 982, 983)
"""Census 2000/2005 Armed Forces codes (Deming's 2005 file maps them to 905)."""
MILITARY_2010 = (9800, 9810, 9820, 9830)
"""Census 2010 Armed Forces codes (Deming's 2010 file maps them to 905; Dorn's has no rows)."""
NLSY_4DIGIT_SPECIAL: dict[int, str | None] = {9840: "military", 9950: "out_of_labor_force", 9990: None}
"""Special codes of the NLSY 2000-based 4-digit frame: 9840 Armed Forces, 9950 not in
the labor force, 9990 uncodeable (missing)."""


class UnmappedCodeError(ValueError):
    """Raised by ``Crosswalk.apply(..., on_unmapped="raise")`` when codes do not map."""

    def __init__(self, message: str, unmapped: pd.DataFrame) -> None:
        super().__init__(message)
        self.unmapped = unmapped


@dataclass(frozen=True)
class CrosswalkResult:
    """The outcome of :meth:`Crosswalk.apply`.

    Attributes
    ----------
    state_index : numpy.ndarray
        Index into ``scheme.states`` of every input code, ``-1`` where it did not map.
    outcome : numpy.ndarray
        Per code: 0 mapped, 1 no occupation (a special "not available" code), 2
        unmapped (not in the crosswalk), 3 missing source code.
    unmapped : pandas.DataFrame
        One row per unmapped code: ``code``, ``count`` and ``rows`` (up to 20
        row labels where it occurs).
    scheme : OccupationScheme
        Target scheme.
    frame : str
        Source frame.
    """

    state_index: np.ndarray
    outcome: np.ndarray
    unmapped: pd.DataFrame
    scheme: OccupationScheme
    frame: str

    @property
    def states(self) -> pd.Categorical:
        """Mapped states as a categorical over ``scheme.states`` (missing where not mapped)."""
        return pd.Categorical.from_codes(self.state_index, categories=list(self.scheme.states))

    def counts(self) -> dict[str, int]:
        """Number of codes per outcome."""
        n = np.bincount(self.outcome, minlength=4)
        return {
            "mapped": int(n[MAPPED]),
            "no_occupation": int(n[NO_OCCUPATION]),
            "unmapped": int(n[UNMAPPED]),
            "missing_code": int(n[MISSING_CODE]),
        }


@dataclass(frozen=True)
class Crosswalk:
    """A many-to-one map from a source frame's codes to occ1990dd states.

    Attributes
    ----------
    frame : str
        Source frame (one of :data:`FRAMES`).
    scheme : OccupationScheme
        Target occ1990dd scheme (its ``variant`` says which family).
    mapping : dict of int to str or None
        Source code to state; ``None`` means "no occupation" (a missing state).
    notes : tuple of str
        How the table was assembled (files, added rows, back-mapped codes).
    divisor : int
        Codes are divided (integer division) by this before lookup, for the
        4-digit frames that are 3-digit codes times ten.
    """

    frame: str
    scheme: OccupationScheme
    mapping: dict[int, str | None]
    notes: tuple[str, ...] = ()
    divisor: int = 1
    special: dict[int, str | None] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.mapping) + len(self.special)

    def to_frame(self) -> pd.DataFrame:
        """The table: ``from_code``, ``state`` (empty for no occupation)."""
        rows = [(c, s) for c, s in self.special.items()] + [(c * self.divisor, s) for c, s in self.mapping.items()]
        return pd.DataFrame(rows, columns=["from_code", "state"]).sort_values("from_code", ignore_index=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", _lookup_table(self))

    def apply(
        self,
        codes: Sequence[Any] | np.ndarray | pd.Series,
        *,
        on_unmapped: OnUnmapped = "drop",
        rows: Sequence[Any] | np.ndarray | pd.Index | None = None,
    ) -> CrosswalkResult:
        """Map source codes to states.

        Parameters
        ----------
        codes : array-like of int
            Source codes; missing values (NaN) are reported as missing codes.
            Negative codes (survey missing-value codes) are unmapped: readers
            handle them before the crosswalk.
        on_unmapped : {"drop", "raise"}
            ``"drop"`` (default): unmapped codes get state index ``-1`` and are
            listed in ``result.unmapped`` with their counts; ``"raise"``: raise
            :class:`UnmappedCodeError` listing them.
        rows : array-like, optional
            Row labels used in the unmapped table (default: positions).

        Returns
        -------
        CrosswalkResult
        """
        if on_unmapped not in ("drop", "raise"):
            raise ValueError(f"on_unmapped must be 'drop' or 'raise', got {on_unmapped!r}")
        values = np.asarray(codes)
        if values.dtype.kind == "O" or values.dtype.kind in "US":
            values = pd.to_numeric(pd.Series(values), errors="raise").to_numpy()
        missing = pd.isna(values) if values.dtype.kind == "f" else np.zeros(len(values), dtype=bool)
        if values.dtype.kind == "f":
            finite = np.isfinite(values)
            fractional = ~missing & (~finite | (values != np.floor(np.where(finite, values, 0))))
        else:
            fractional = np.zeros(len(values), dtype=bool)
        ints = np.where(missing | fractional, -1, values).astype(np.int64)
        if fractional.any():
            raise ValueError(f"{self.frame} codes must be integers; got e.g. {values[fractional][0]}")
        table = self._lookup  # type: ignore[attr-defined]
        in_range = (ints >= 0) & (ints < len(table))
        looked = np.full(len(ints), -3, dtype=np.int64)
        looked[in_range] = table[ints[in_range]]
        state_index = np.where(looked >= 0, looked, -1).astype(np.int32)
        outcome = np.full(len(ints), UNMAPPED, dtype=np.int8)
        outcome[looked >= 0] = MAPPED
        outcome[looked == -2] = NO_OCCUPATION
        outcome[missing] = MISSING_CODE
        unmapped = _unmapped_table(ints, outcome == UNMAPPED, rows)
        if on_unmapped == "raise" and len(unmapped):
            pairs = zip(unmapped["code"][:10], unmapped["count"][:10], strict=True)
            listing = ", ".join(f"{c} ({n}x)" for c, n in pairs)
            raise UnmappedCodeError(
                f"{len(unmapped)} {self.frame} code(s) do not map to {self.scheme.name} ({self.scheme.variant}): "
                f"{listing}; first rows {unmapped['rows'].iloc[0][:5]}",
                unmapped,
            )
        return CrosswalkResult(state_index, outcome, unmapped, self.scheme, self.frame)


def _unmapped_table(codes: np.ndarray, mask: np.ndarray, rows: Any) -> pd.DataFrame:
    if not mask.any():
        return pd.DataFrame({"code": pd.Series(dtype="int64"), "count": pd.Series(dtype="int64"), "rows": []})
    labels = np.arange(len(codes)) if rows is None else np.asarray(rows)
    where = np.flatnonzero(mask)
    uniq, inverse, counts = np.unique(codes[where], return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    examples = [labels[where[order[s : s + min(c, 20)]]].tolist() for s, c in zip(starts, counts, strict=True)]
    table = pd.DataFrame({"code": uniq.astype(np.int64), "count": counts.astype(np.int64), "rows": examples})
    return table.sort_values(["count", "code"], ascending=[False, True], ignore_index=True)


def _lookup_table(crosswalk: Crosswalk) -> np.ndarray:
    """Dense array: code -> state index (>= 0), -2 no occupation, -3 unmapped."""
    top = max(
        max(((c + 1) * crosswalk.divisor for c in crosswalk.mapping), default=0),
        max((c + 1 for c in crosswalk.special), default=0),
    )
    table = np.full(top, -3, dtype=np.int64)
    index = {s: i for i, s in enumerate(crosswalk.scheme.states)}
    for code, state in crosswalk.mapping.items():
        value = -2 if state is None else index[state]
        if crosswalk.divisor == 1:
            table[code] = value
        else:  # every 4-digit code whose first three digits are ``code``
            table[code * crosswalk.divisor : (code + 1) * crosswalk.divisor] = value
    for code, state in crosswalk.special.items():
        table[code] = -2 if state is None else index[state]
    return table


# ---------------------------------------------------------------------- building crosswalks
_FILES = {
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


@cache
def crosswalk(frame: Frame, variant: Variant = "dorn2013") -> Crosswalk:
    """The crosswalk from ``frame`` to occ1990dd of the chosen family.

    Parameters
    ----------
    frame : str
        ``"occ1970"``, ``"occ1980"``, ``"occ1990"``, ``"occ2000"`` (3-digit),
        ``"occ2000_4digit"`` (the NLSY's 2000-based 4-digit codes: the 3-digit
        code times ten, with 9840 Armed Forces, 9950 not in the labor force,
        9990 uncodeable), ``"occ2005"`` (ACS 2005-2009), ``"occ2010"``, or
        ``"occ1990dd"`` for codes that are already occ1990dd (the identity on
        the family's codes, with its special codes and aliases).
    variant : {"dorn2013", "deming2017"}
        Target family.

    Notes
    -----
    Special targets become status tokens (905 military, 991 unemployed) or a
    missing state (999 no occupation). In the dorn2013 family 874 is folded into
    873. Frames without a Dorn file (1980, 2005) use Deming's file with each
    Deming-only target mapped back to the Dorn code that the same 1990 Census
    codes reach most often (an approximation; see ``crosswalk.notes``). Armed
    Forces codes missing from a file (2000: 980-983; 2010: 9800-9830) are added
    as ``military``.
    """
    if frame not in FRAMES:
        raise ValueError(f"unknown occupation frame {frame!r}; choose from {FRAMES}")
    variant = check_variant(variant)
    scheme = occ1990dd(variant)
    if frame == "occ1990dd":
        identity: dict[int, str | None] = {int(c): c for c in scheme.codes}
        identity.update(SPECIAL_TARGETS)
        if variant == "dorn2013":
            identity.update({a: str(t) for a, t in DORN_ALIASES.items()})
        notes = ("identity on the occ1990dd codes, with 905 military, 991 unemployed, 999 no occupation",)
        return Crosswalk(frame, scheme, identity, notes)
    if frame == "occ2000_4digit":
        base = crosswalk("occ2000", variant)
        notes = (*base.notes, "4-digit codes: the first three digits are looked up in the occ2000 crosswalk")
        return Crosswalk(frame, scheme, base.mapping, notes, divisor=10, special=dict(NLSY_4DIGIT_SPECIAL))
    file_variant = variant if (frame, variant) in _FILES else "deming2017"
    filename = _FILES[frame, file_variant]
    table = taxonomy_file(filename)
    notes = [f"{filename} ({len(table)} rows)"]
    backmap = _deming_to_dorn() if variant == "dorn2013" else {}
    if file_variant != variant:
        notes.append(f"no Dorn file for {frame}: Deming-only targets mapped back to Dorn codes {backmap}")
    mapping: dict[int, str | None] = {}
    for source, target in zip(table["from_code"].astype(int), table["occ1990dd"].astype(int), strict=True):
        if target in SPECIAL_TARGETS:
            mapping[source] = SPECIAL_TARGETS[target]
            continue
        if variant == "dorn2013":
            target = backmap.get(target, DORN_ALIASES.get(target, target))
        mapping[source] = str(target)
    extra = {"occ2000": MILITARY_2000, "occ2005": MILITARY_2000, "occ2010": MILITARY_2010}.get(frame, ())
    added = [c for c in extra if c not in mapping]
    for code in added:
        mapping[code] = "military"
    if added:
        notes.append(f"Armed Forces codes {added} added as military")
    unknown = {s for s in mapping.values() if s is not None and s not in scheme}
    if unknown:  # pragma: no cover - guarded by tests on the shipped tables
        raise AssertionError(f"{filename}: targets {sorted(unknown)} are not {variant} occ1990dd codes")
    return Crosswalk(frame, scheme, mapping, tuple(notes))


@cache
def _deming_to_dorn() -> dict[int, int]:
    """Deming-only occ1990dd codes -> the Dorn code most 1990 Census codes share with them."""
    dorn = taxonomy_file("crosswalk_occ1990_occ1990dd.csv").set_index("from_code")["occ1990dd"]
    deming = taxonomy_file("crosswalk_occ1990_occ1990dd_deming2017.csv").set_index("from_code")["occ1990dd"]
    dorn_codes = set(occ1990dd("dorn2013").codes)
    both = pd.DataFrame({"dorn": dorn.replace(DORN_ALIASES), "deming": deming}).dropna().astype(int)
    out = {}
    for code, group in both.groupby("deming"):
        if str(code) not in dorn_codes and code not in SPECIAL_TARGETS:
            counts = group["dorn"].value_counts()
            out[int(code)] = int(counts.index[0])  # most frequent; ties broken by the smaller code below
            top = counts[counts == counts.iloc[0]].index
            out[int(code)] = int(min(top))
    return out
