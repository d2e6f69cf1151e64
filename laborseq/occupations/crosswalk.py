"""Crosswalks from Census occupation frames to occ1990dd.

A :class:`Crosswalk` maps the integer codes of one source frame (Census 1970,
1980, 1990, 2000, 2005, 2010, or the 4-digit 2000-based codes of NLS, PSID and
CPS rounds since 2002) to states of an occ1990dd scheme. Applying it never
drops a code silently: each code maps to a state through the family's
published file, maps through a sourced fill (:mod:`laborseq.occupations.fills`:
a valid code the file lacks), maps to "no occupation" (a missing state with
its reason), or is reported with its count and rows, either as a valid code of
the frame that no crosswalk maps or as a code that is not in the frame's
official list at all (:mod:`laborseq.occupations.code_lists`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborseq.occupations.code_lists import census_codes
from laborseq.occupations.crosswalk_files import FILES, deming_to_dorn
from laborseq.occupations.fills import published, published_fills
from laborseq.occupations.occ1990dd import (
    DORN_ALIASES,
    SPECIAL_TARGETS,
    Variant,
    check_variant,
    occ1990dd,
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

MAX_CODE = 99_999
"""Largest code a crosswalk table may hold (Census codes have at most four digits; the lookup is a dense array)."""

# Outcome of each code, as small integers (arrays of 10^7 codes stay compact).
MAPPED, NO_OCCUPATION, UNMAPPED, MISSING_CODE, FILLED, NOT_IN_FRAME = 0, 1, 2, 3, 4, 5
OUTCOMES = ("mapped", "no_occupation", "unmapped", "missing_code", "filled", "not_in_frame")
"""Names of the outcomes, by number: ``unmapped`` is a valid code of the frame that no crosswalk maps,
``not_in_frame`` a code that is not in the frame's official list, ``filled`` a valid code mapped by a fill."""

NLSY_4DIGIT_SPECIAL: dict[int, str | None] = {9840: "military", 9950: "out_of_labor_force", 9990: None}
"""Special codes of the NLS 2000-based 4-digit frame: 9840 Armed Forces, 9950 not in
the labor force, 9990 uncodeable (missing)."""


class UnmappedCodeError(ValueError):
    """Raised by ``Crosswalk.apply(..., on_unmapped="raise")`` when codes do not map.

    Attributes
    ----------
    unmapped : pandas.DataFrame
        One row per code: ``code``, ``count``, ``rows`` and ``in_frame`` (whether
        the code is in the frame's official list).
    """

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
        Per code, one of :data:`OUTCOMES` by number: 0 mapped, 1 no occupation (a
        code meaning none), 2 unmapped (a valid code no crosswalk maps), 3
        missing source code, 4 filled (mapped by a fill), 5 not a code of the frame.
    fill_source : numpy.ndarray
        Per code, the index into ``fill_sources`` of the fill that mapped it, ``-1`` otherwise.
    fill_sources : tuple of str
        The crosswalk's fill sources.
    unmapped : pandas.DataFrame
        One row per code that did not map (outcomes 2 and 5): ``code``, ``count``,
        ``rows`` (up to 20 row labels where it occurs) and ``in_frame``.
    scheme : OccupationScheme
        Target scheme.
    frame : str
        Source frame.
    codes : numpy.ndarray
        The input codes as integers (``-1`` where missing).
    """

    state_index: np.ndarray
    outcome: np.ndarray
    fill_source: np.ndarray
    fill_sources: tuple[str, ...]
    unmapped: pd.DataFrame
    scheme: OccupationScheme
    frame: str
    codes: np.ndarray

    @property
    def states(self) -> pd.Categorical:
        """Mapped states as a categorical over ``scheme.states`` (missing where not mapped)."""
        return pd.Categorical.from_codes(self.state_index, categories=list(self.scheme.states))

    @property
    def kept(self) -> np.ndarray:
        """Whether each code maps to a state (through the file or a fill)."""
        return (self.outcome == MAPPED) | (self.outcome == FILLED)

    def counts(self) -> dict[str, int]:
        """Number of codes per outcome."""
        n = np.bincount(self.outcome, minlength=len(OUTCOMES))
        return {name: int(n[i]) for i, name in enumerate(OUTCOMES)}

    def filled_codes(self) -> dict[str, dict[int, int]]:
        """Per fill source, the filled codes and how often each occurs."""
        out: dict[str, dict[int, int]] = {}
        for index, source in enumerate(self.fill_sources):
            hit = self.fill_source == index
            if hit.any():
                codes, counts = np.unique(self.codes[hit], return_counts=True)
                out[source] = dict(zip(codes.tolist(), counts.tolist(), strict=True))
        return out


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
        Source code to state, as the family's published file (and the frame's
        special codes) say; ``None`` means "no occupation" (a missing state).
    fills : dict of int to (str or None, str, str)
        Valid codes the published file lacks: code to (state, source, detail),
        where the source names the rule (counted as one lineage step) and the
        detail what it used for this code.
    notes : tuple of str
        How the table was assembled (files, added rows, back-mapped codes).
    valid_codes : frozenset of int or None
        The frame's official code list (``None`` where none ships, as for 1970):
        a code that neither maps nor is listed is reported as not a code of the frame.
    """

    frame: str
    scheme: OccupationScheme
    mapping: dict[int, str | None]
    notes: tuple[str, ...] = ()
    fills: dict[int, tuple[str | None, str, str]] = field(default_factory=dict)
    valid_codes: frozenset[int] | None = None

    def __len__(self) -> int:
        return len(self.mapping) + len(self.fills)

    def to_frame(self) -> pd.DataFrame:
        """The table: ``from_code``, ``state`` (empty for no occupation), ``source`` (``published`` or the fill's
        rule) and ``detail``."""
        rows = [(c, s, "published", "") for c, s in self.mapping.items()]
        rows += [(c, s, source, detail) for c, (s, source, detail) in self.fills.items()]
        frame = pd.DataFrame(rows, columns=["from_code", "state", "source", "detail"])
        return frame.sort_values("from_code", ignore_index=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", _lookup_table(self))

    def with_table(
        self, table: pd.DataFrame | str | os.PathLike[str], *, source: str = "your crosswalk table"
    ) -> Crosswalk:
        """This crosswalk with a user's rows (``from_code``, ``occ1990dd``) added over it, counted as a fill.

        ``occ1990dd`` holds codes of the family (905 military, 991 unemployed,
        999 no occupation) or status tokens; rows override the published file.
        """
        rows = _read_user_table(table, self.frame)
        extra: dict[int, tuple[str | None, str, str]] = {}
        for code, target in rows:
            extra[code] = (_user_state(target, self.scheme, self.frame), source, str(target))
        mapping = {c: s for c, s in self.mapping.items() if c not in extra}
        notes = (*self.notes, f"{len(extra)} row(s) from {source}")
        return Crosswalk(self.frame, self.scheme, mapping, notes, self.fills | extra, self.valid_codes)

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
            Negative codes (survey missing-value codes) do not map: readers
            handle them before the crosswalk.
        on_unmapped : {"drop", "raise"}
            ``"drop"`` (default): codes that do not map get state index ``-1``
            and are listed in ``result.unmapped`` with their counts; ``"raise"``:
            raise :class:`UnmappedCodeError` naming them and the remedy.
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
        state_table, kind_table, source_table = self._lookup  # type: ignore[attr-defined]
        in_range = (ints >= 0) & (ints < len(state_table))
        state_index = np.full(len(ints), -1, dtype=np.int32)
        state_index[in_range] = state_table[ints[in_range]]
        outcome = np.full(len(ints), UNMAPPED if self.valid_codes is None else NOT_IN_FRAME, dtype=np.int8)
        outcome[in_range] = kind_table[ints[in_range]]
        outcome[missing] = MISSING_CODE
        fill_source = np.full(len(ints), -1, dtype=np.int16)
        fill_source[in_range] = source_table[ints[in_range]]
        fill_source[outcome != FILLED] = -1
        not_kept = (outcome == UNMAPPED) | (outcome == NOT_IN_FRAME)
        unmapped = _unmapped_table(ints, not_kept, rows, self.valid_codes)
        if on_unmapped == "raise" and len(unmapped):
            where = f"first rows {unmapped['rows'].iloc[0][:5]}"
            raise UnmappedCodeError(unmapped_message(self, unmapped, where=where), unmapped)
        return CrosswalkResult(
            state_index, outcome, fill_source, _fill_sources(self), unmapped, self.scheme, self.frame, ints
        )

    def maps(self, codes: Sequence[int] | np.ndarray | pd.Series) -> int:
        """How many of ``codes`` map to a state (through the published file or a fill)."""
        return int(self.apply(np.asarray(codes, dtype=np.int64)).kept.sum())


def unmapped_message(crosswalk: Crosswalk, unmapped: pd.DataFrame, *, where: str = "", source: str = "") -> str:
    """What did not map, how often, and what to do: the other family, or a crosswalk table of your own."""
    frame, variant = crosswalk.frame, crosswalk.scheme.variant
    parts = []
    valid = unmapped[unmapped["in_frame"]]
    invalid = unmapped[~unmapped["in_frame"]]
    if len(valid):
        other = "deming2017" if variant == "dorn2013" else "dorn2013"
        reach = crosswalk_for(frame, other).maps(valid["code"])  # type: ignore[arg-type]
        hint = (
            f"variant='{other}' (--variant {other}) maps {reach} of them"
            if reach
            else f"the {other} family does not map them either"
        )
        what = "valid " if crosswalk.valid_codes is not None else ""
        parts.append(
            f"{len(valid)} {what}{frame} code(s) that the {variant} crosswalk does not map, in "
            f"{int(valid['count'].sum()):,} row(s): {_listing(valid)} ({hint}; or give crosswalk= (--crosswalk) "
            "a table from_code,occ1990dd of your own)"
        )
    if len(invalid):
        parts.append(
            f"{len(invalid)} code(s) that are not codes of the {frame} frame, in {int(invalid['count'].sum()):,} "
            f"row(s): {_listing(invalid)} (check the variable's code frame, e.g. 3-digit codes in a 4-digit "
            "variable, or give crosswalk= (--crosswalk) a table from_code,occ1990dd of your own)"
        )
    prefix = f"{source}: " if source else ""
    return prefix + "; ".join(parts) + (f"; {where}" if where else "")


def _listing(table: pd.DataFrame, limit: int = 10) -> str:
    pairs = zip(table["code"][:limit], table["count"][:limit], strict=True)
    more = f" and {len(table) - limit} more" if len(table) > limit else ""
    return ", ".join(f"{c} ({n}x)" for c, n in pairs) + more


def _fill_sources(crosswalk: Crosswalk) -> tuple[str, ...]:
    return tuple(dict.fromkeys(fill[1] for fill in crosswalk.fills.values()))


def _unmapped_table(codes: np.ndarray, mask: np.ndarray, rows: Any, valid: frozenset[int] | None) -> pd.DataFrame:
    if not mask.any():
        return pd.DataFrame(
            {
                "code": pd.Series(dtype="int64"),
                "count": pd.Series(dtype="int64"),
                "rows": [],
                "in_frame": pd.Series(dtype=bool),
            }
        )
    labels = np.arange(len(codes)) if rows is None else np.asarray(rows)
    where = np.flatnonzero(mask)
    uniq, inverse, counts = np.unique(codes[where], return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    examples = [labels[where[order[s : s + min(c, 20)]]].tolist() for s, c in zip(starts, counts, strict=True)]
    in_frame = [True if valid is None else int(c) in valid for c in uniq]
    table = pd.DataFrame(
        {"code": uniq.astype(np.int64), "count": counts.astype(np.int64), "rows": examples, "in_frame": in_frame}
    )
    return table.sort_values(["count", "code"], ascending=[False, True], ignore_index=True)


def _lookup_table(crosswalk: Crosswalk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense arrays over codes: state index (-1 none), outcome, fill source index (-1 none)."""
    codes = [*crosswalk.mapping, *crosswalk.fills, *(crosswalk.valid_codes or ())]
    top = max(codes, default=-1) + 1
    state = np.full(top, -1, dtype=np.int32)
    kind = np.full(top, UNMAPPED if crosswalk.valid_codes is None else NOT_IN_FRAME, dtype=np.int8)
    if crosswalk.valid_codes:
        kind[list(crosswalk.valid_codes)] = UNMAPPED
    source = np.full(top, -1, dtype=np.int16)
    index = {s: i for i, s in enumerate(crosswalk.scheme.states)}
    for code, target in crosswalk.mapping.items():
        state[code], kind[code] = (-1, NO_OCCUPATION) if target is None else (index[target], MAPPED)
    sources = {name: i for i, name in enumerate(_fill_sources(crosswalk))}
    for code, (target, name, _) in crosswalk.fills.items():
        state[code], kind[code] = (-1, NO_OCCUPATION) if target is None else (index[target], FILLED)
        source[code] = sources[name]
    return state, kind, source


# ---------------------------------------------------------------------- building crosswalks
def crosswalk(frame: Frame, variant: Variant = "dorn2013") -> Crosswalk:
    """The crosswalk from ``frame`` to occ1990dd of the chosen family.

    Parameters
    ----------
    frame : str
        ``"occ1970"``, ``"occ1980"``, ``"occ1990"``, ``"occ2000"`` (3-digit),
        ``"occ2000_4digit"`` (the 2000-based 4-digit codes of NLS, PSID and CPS
        rounds since 2002: the 3-digit code times ten, with 9830 and 9840 Armed
        Forces, 9920 no recent occupation, and the NLS codes 9950 not in the
        labor force and 9990 uncodeable), ``"occ2005"`` (ACS 2005-2009),
        ``"occ2010"``, or ``"occ1990dd"`` for codes that are already occ1990dd
        (the identity on the family's codes, with its special codes and aliases).
    variant : {"dorn2013", "deming2017"}
        Target family.

    Notes
    -----
    Special targets become status tokens (905 military, 991 unemployed) or a
    missing state (999 no occupation). In the dorn2013 family 874 is folded into
    873. Frames without a Dorn file (1980, 2005) use Deming's file with each
    Deming-only target mapped back to the Dorn code that the same 1990 Census
    codes reach most often (an approximation; see ``crosswalk.notes``). Codes of
    the frame's official list that the file lacks: Armed Forces codes become
    ``military``, other non-occupation codes "no occupation", and valid
    occupation codes are filled where a sourced rule reaches them
    (:mod:`laborseq.occupations.fills`), each with its source.
    """
    return crosswalk_for(frame, check_variant(variant))


@cache
def crosswalk_for(frame: str, variant: Variant) -> Crosswalk:
    """:func:`crosswalk` without argument checks (cached)."""
    if frame not in FRAMES:
        raise ValueError(f"unknown occupation frame {frame!r}; choose from {', '.join(FRAMES)}")
    scheme = occ1990dd(variant)
    if frame == "occ1990dd":
        identity: dict[int, str | None] = {int(c): c for c in scheme.codes}
        identity.update(SPECIAL_TARGETS)
        if variant == "dorn2013":
            identity.update({a: str(t) for a, t in DORN_ALIASES.items()})
        notes = ("identity on the occ1990dd codes, with 905 military, 991 unemployed, 999 no occupation",)
        return Crosswalk(frame, scheme, identity, notes)
    base = "occ2000" if frame == "occ2000_4digit" else frame
    family = variant if (base, variant) in FILES else "deming2017"
    own = published(base, variant)
    notes = [f"{FILES[base, family]} ({len(own)} rows)"]
    if family != variant:
        notes.append(f"no Dorn file for {base}: Deming-only targets mapped back to Dorn codes {deming_to_dorn()}")
    found = published_fills(base, variant)
    scale = 10 if frame == "occ2000_4digit" else 1
    mapping = {code * scale: _state(target) for code, target in own.items()}
    filled = {code * scale: (_state(target), source, detail) for code, (target, source, detail) in found.items()}
    listed = census_codes(frame)
    if frame == "occ2000_4digit":
        three_digit = census_codes("occ2000")
        military = three_digit.loc[three_digit["kind"] == "military", "code"].astype(int)
        mapping.update({code * 10: "military" for code in military})  # 980-983 times ten
        mapping.update(NLSY_4DIGIT_SPECIAL)
    if listed is not None:
        specials = listed[(listed["kind"] != "occupation") & ~listed["code"].isin(list(mapping))]
        for code, kind in zip(specials["code"].astype(int), specials["kind"], strict=True):
            mapping[code] = "military" if kind == "military" else _state(_NON_OCCUPATION.get((frame, code), 999))
        if len(specials):
            added = sorted(specials["code"].tolist())
            notes.append(f"Armed Forces and non-occupation codes of the official list added: {added}")
    if filled:
        notes.append(f"{len(filled)} valid code(s) the file lacks filled from sourced relations (see fills)")
    unknown = {s for s in [*mapping.values(), *(f[0] for f in filled.values())] if s is not None and s not in scheme}
    if unknown:  # pragma: no cover - guarded by tests on the shipped tables
        raise AssertionError(f"{frame}: targets {sorted(unknown)} are not {variant} occ1990dd codes")
    valid = frozenset(listed["code"].astype(int)) if listed is not None else None
    return Crosswalk(frame, scheme, mapping, tuple(notes), filled, valid)


_NON_OCCUPATION = {("occ2000_4digit", 9920): 991, ("occ2005", 992): 991, ("occ2010", 9920): 991}
"""Non-occupation codes with a published target: "no recent occupation" (unemployed 5 years or more, or never
worked) is 991 unemployed in Dorn's and Deming's 2005 and 2010 files."""


def _state(target: int) -> str | None:
    return SPECIAL_TARGETS[target] if target in SPECIAL_TARGETS else str(target)


# ---------------------------------------------------------------------- a user's own table
CrosswalkTable = pd.DataFrame | str | os.PathLike[str]
"""A user's crosswalk: a DataFrame or CSV path with ``from_code``, ``occ1990dd`` and, when it serves several
frames, ``frame``."""


def user_crosswalks(table: CrosswalkTable, variant: Variant, frames: Sequence[str]) -> dict[str, Crosswalk]:
    """The crosswalks of ``frames`` with the rows of a user's table added over them.

    Parameters
    ----------
    table : DataFrame or path
        Columns ``from_code`` and ``occ1990dd`` (a code of the family, 905, 991,
        999, or a status token such as ``out_of_labor_force``), and ``frame``
        when the rows are for several frames (without it, every row is for every
        frame in ``frames``).
    variant : {"dorn2013", "deming2017"}
        Family of the targets.
    frames : sequence of str
        The frames the reader uses.

    Returns
    -------
    dict
        Frame -> :class:`Crosswalk` (built in, with the table's rows counted as
        the fill "your crosswalk table").
    """
    frame_table = _as_frame(table)
    where = _table_name(table)
    if "frame" not in frame_table.columns and len(frames) > 1:
        raise ValueError(
            f"{where}: this input has codes of several frames ({', '.join(frames)}); add a column frame that says "
            "which frame each row is for"
        )
    out = {}
    for frame in frames:
        rows = frame_table if "frame" not in frame_table.columns else frame_table[frame_table["frame"] == frame]
        if len(rows):
            built_in = crosswalk_for(frame, check_variant(variant))
            out[frame] = built_in.with_table(rows, source=f"your crosswalk ({where})")
    if "frame" in frame_table.columns:
        unused = sorted(set(frame_table["frame"].astype(str)) - set(frames))
        if unused:
            raise ValueError(f"{where}: frame(s) {unused} are not frames of this input ({', '.join(frames)})")
    return out


def _as_frame(table: CrosswalkTable) -> pd.DataFrame:
    frame = table if isinstance(table, pd.DataFrame) else _read_csv(Path(table))
    missing = [c for c in ("from_code", "occ1990dd") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{_table_name(table)}: a crosswalk table needs columns from_code and occ1990dd (and frame for several "
            f"frames); it has {list(frame.columns)}"
        )
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"crosswalk table {path}: no such file")
    return pd.read_csv(path)


def _table_name(table: CrosswalkTable) -> str:
    return "the crosswalk table" if isinstance(table, pd.DataFrame) else str(table)


def _read_user_table(table: CrosswalkTable, frame: str) -> list[tuple[int, Any]]:
    frame_table = _as_frame(table)
    codes = pd.to_numeric(frame_table["from_code"], errors="coerce")
    bad = np.flatnonzero((codes.isna() | (codes != np.floor(codes))).to_numpy())
    if len(bad):
        raise ValueError(
            f"{_table_name(table)}: from_code {frame_table['from_code'].iloc[bad[0]]!r} in row {bad[0] + 1} is not an "
            f"integer {frame} code"
        )
    out_of_range = np.flatnonzero(((codes < 0) | (codes > MAX_CODE)).to_numpy())
    if len(out_of_range):
        raise ValueError(
            f"{_table_name(table)}: from_code {int(codes.iloc[out_of_range[0]])} in row {out_of_range[0] + 1} is not a "
            f"Census code (0 to {MAX_CODE}); survey missing-value codes need no crosswalk row"
        )
    if codes.duplicated().any():
        raise ValueError(f"{_table_name(table)}: from_code {int(codes[codes.duplicated()].iloc[0])} appears twice")
    return list(zip(codes.astype(int).tolist(), frame_table["occ1990dd"].tolist(), strict=True))


def _user_state(target: Any, scheme: OccupationScheme, frame: str) -> str | None:
    """A user's target as a state of ``scheme`` (a code, 905/991/999, or a status token)."""
    text = str(target).strip()
    number = pd.to_numeric(text, errors="coerce")
    if pd.notna(number) and float(number).is_integer():
        code = int(number)
        if code in SPECIAL_TARGETS:
            return SPECIAL_TARGETS[code]
        if scheme.variant == "dorn2013":
            code = DORN_ALIASES.get(code, code)
        text = str(code)
    if text not in scheme:
        raise ValueError(
            f"crosswalk table row for {frame}: {target!r} is not an occ1990dd code of the {scheme.variant} family "
            f"(nor 905, 991, 999 or a status token such as {', '.join(scheme.status_tokens[:3])})"
        )
    return text
