"""From candidate occupation codes to a harmonised panel, counting every row.

Every reader reduces its raw export to one long table of *candidates*: one row
per person, year and occupation variable, with the variable's code frame and a
priority. :func:`harmonize` then applies, in order,

1. blank codes: dropped ("missing value");
2. the survey's missing-value codes (e.g. NLS -1 to -5): dropped with their label;
3. special source codes of a frame (e.g. 1970 code 995 "did not work"): recoded
   to a status token or dropped, as the reader's rules say;
4. the crosswalk of the candidate's frame to occ1990dd: codes mapped by a
   sourced fill are counted as recodes ("filled from ..."); "no occupation"
   targets, valid codes no crosswalk maps and codes that are not codes of the
   frame are dropped, each counted apart (or raise with ``on_unmapped="raise"``);
5. one state per person-year: where several candidates survive, the one with
   the lowest priority number is kept and the others are dropped as superseded;

and records each step in a :class:`~laborseq.panel.lineage.Lineage`, so that
candidates read = person-years kept + counted drops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from laborseq.occupations.crosswalk import (
    MISSING_CODE,
    NO_OCCUPATION,
    NOT_IN_FRAME,
    UNMAPPED,
    Crosswalk,
    OnUnmapped,
    UnmappedCodeError,
    crosswalk,
    unmapped_message,
)
from laborseq.occupations.occ1990dd import Variant, occ1990dd
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage

CANDIDATE_COLUMNS = ("person_id", "year", "variable", "frame", "code", "priority")
"""Columns of the long candidate table every reader builds."""


@dataclass(frozen=True)
class SpecialCode:
    """What a special source code means.

    Attributes
    ----------
    reason : str
        Label for the lineage (e.g. ``"995 did not work"``).
    state : str or None
        Status token to recode to, or ``None`` to drop the candidate.
    """

    reason: str
    state: str | None = None


def harmonize(
    candidates: pd.DataFrame,
    *,
    source: str,
    variant: Variant = "dorn2013",
    missing_codes: Mapping[int, str] | None = None,
    special_codes: Mapping[tuple[str, int], SpecialCode] | None = None,
    on_unmapped: OnUnmapped = "drop",
    covariates: pd.DataFrame | None = None,
    person_covariates: pd.DataFrame | None = None,
    weight: str | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    lineage: Lineage | None = None,
    crosswalks: Mapping[str, Crosswalk] | None = None,
) -> CareerPanel:
    """Build a panel in occ1990dd from candidate occupation codes.

    Parameters
    ----------
    candidates : pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`: ``person_id``, ``year``, ``variable``
        (the source variable, for the lineage), ``frame`` (a crosswalk frame such
        as ``"occ1970"``, or ``"occ1990dd"`` for codes that are already
        harmonised), ``code`` (numeric, NaN when blank) and ``priority`` (lower
        wins within a person-year).
    source : str
        The input, for the lineage.
    variant : {"dorn2013", "deming2017"}
        occ1990dd family of the result.
    missing_codes : mapping of int to str, optional
        Survey missing-value codes and their labels (e.g. ``{-4: "valid skip"}``).
    special_codes : mapping of (frame, code) to SpecialCode, optional
        Frame-specific codes that are not occupations.
    on_unmapped : {"drop", "raise"}
        What to do with codes the crosswalk does not know.
    covariates : pandas.DataFrame, optional
        Time-varying covariates indexed by ``(person_id, year)``, joined to the
        kept person-years (missing where a person-year has none).
    person_covariates : pandas.DataFrame, optional
        Static covariates indexed by ``person_id``.
    weight : str, optional
        Column of ``covariates`` (or ``person_covariates``) holding survey weights.
    name, metadata
        Passed to :class:`~laborseq.panel.CareerPanel`.
    lineage : Lineage, optional
        An existing lineage to continue (its ``rows_read`` must equal the number
        of candidates plus the rows it has already dropped); by default a new one.
    crosswalks : mapping of str to Crosswalk, optional
        Crosswalks to use instead of the built-in ones, by frame (e.g. from
        :func:`~laborseq.occupations.crosswalk.user_crosswalks`).

    Returns
    -------
    CareerPanel
        With ``panel.lineage`` describing every drop and recode.
    """
    missing_cols = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing_cols:
        raise ValueError(f"harmonize: candidate table lacks columns {missing_cols}")
    scheme = occ1990dd(variant)
    lineage = lineage or Lineage(source=source, rows_read=len(candidates), unit="candidate occupation")
    if lineage.rows_read != len(candidates) + lineage.rows_dropped:
        raise ValueError("harmonize: the given lineage does not account for the candidate rows")
    codes = _numeric_codes(candidates, source)
    frames = candidates["frame"].to_numpy()
    state = np.full(len(codes), -1, dtype=np.int32)
    alive = np.ones(len(codes), dtype=bool)

    blank = np.isnan(codes)
    lineage.drop("missing code", "missing value (blank)", int(blank.sum()))
    alive &= ~blank

    for code, label in sorted((missing_codes or {}).items()):
        hit = alive & (codes == code)
        lineage.drop("missing code", f"{code} {label}", int(hit.sum()))
        alive &= ~hit

    for (frame, code), rule in sorted((special_codes or {}).items(), key=lambda kv: (kv[0][0], kv[0][1])):
        hit = alive & (frames == frame) & (codes == code)
        n = int(hit.sum())
        if rule.state is None:
            lineage.drop("special code", rule.reason, n, frame=frame, code=code)
            alive &= ~hit
        else:
            state[hit] = scheme.index(rule.state)
            lineage.recode("special code", f"{rule.reason} -> {rule.state}", n, frame=frame, code=code)
    done = state >= 0

    for frame in pd.unique(frames[alive & ~done]):
        rows = np.flatnonzero(alive & ~done & (frames == frame))
        table = (crosswalks or {}).get(frame)
        table = crosswalk(frame, variant) if table is None else table
        result = table.apply(codes[rows], rows=rows)
        unmapped = result.unmapped.assign(
            rows=[_row_labels(candidates, np.asarray(r)) for r in result.unmapped["rows"]]
        )
        if on_unmapped == "raise" and len(unmapped):
            where = f"e.g. at {unmapped['rows'].iloc[0][:3]} (person:year:variable)"
            raise UnmappedCodeError(unmapped_message(table, unmapped, where=where, source=source), unmapped)
        kept = result.kept
        state[rows] = np.where(kept, result.state_index, -1)
        record_crosswalk(lineage, table, frame, *np.unique(codes[rows], return_counts=True))
        alive[rows] &= kept

    kept = pd.DataFrame(
        {
            "person_id": candidates["person_id"].to_numpy()[alive],
            "year": candidates["year"].to_numpy()[alive],
            "priority": candidates["priority"].to_numpy()[alive],
            "state": state[alive],
        }
    )
    kept = kept.sort_values(["person_id", "year", "priority"], kind="stable")
    pid, yr = kept["person_id"].to_numpy(), kept["year"].to_numpy()
    superseded = np.zeros(len(kept), dtype=bool)  # sorted: a repeat of the row before loses
    superseded[1:] = (pid[1:] == pid[:-1]) & (yr[1:] == yr[:-1])
    lineage.drop("one per year", "superseded by a higher-priority occupation variable", int(superseded.sum()))
    kept = kept[~superseded]

    frame = pd.DataFrame(
        {
            "person_id": kept["person_id"].to_numpy(),
            "year": kept["year"].to_numpy(),
            "occ": pd.Categorical.from_codes(kept["state"].to_numpy(), categories=list(scheme.states)),
        }
    )
    static: list[str] = []
    time_varying: list[str] = []
    if person_covariates is not None and len(person_covariates.columns):
        frame = frame.join(person_covariates, on="person_id")
        static = [c for c in person_covariates.columns if c != weight]
    if covariates is not None and len(covariates.columns):
        frame = frame.join(covariates, on=["person_id", "year"])
        time_varying = [c for c in covariates.columns if c != weight]
    meta = {**(metadata or {}), "lineage": lineage.to_dict(), "occ1990dd_variant": variant}
    panel = CareerPanel(
        frame,
        covariates=static + time_varying,
        static=static,
        weight=weight,
        scheme=scheme,
        name=name,
        metadata=meta,
    )
    lineage.check(len(panel))
    return panel


def record_crosswalk(lineage: Lineage, table: Crosswalk, frame: str, codes: np.ndarray, counts: np.ndarray) -> None:
    """Record the crosswalk steps of :func:`harmonize` for ``codes`` occurring ``counts`` times each.

    The steps depend only on how often each code occurs, so a reader that
    counts codes elsewhere (the out-of-core resume engine counts them in
    DuckDB) records exactly what :func:`harmonize` would: fills (recodes), codes
    meaning no occupation, valid codes no crosswalk maps, codes that are not
    codes of the frame, and missing source codes (drops).
    """
    counts = np.asarray(counts, dtype=np.int64)
    result = table.apply(np.asarray(codes, dtype=float))
    outcome = result.outcome
    for index, source in enumerate(result.fill_sources):
        hit = result.fill_source == index
        if hit.any():
            filled = _code_counts(result.codes[hit], counts[hit])
            lineage.recode("crosswalk", f"{source} ({frame})", sum(filled.values()), codes=_top(filled))
    lineage.drop("crosswalk", f"no occupation ({frame} code meaning none)", int(counts[outcome == NO_OCCUPATION].sum()))
    listed = table.valid_codes is not None
    valid_reason = f"valid {frame} code no crosswalk maps" if listed else f"unmapped {frame} code"
    for kind, reason in ((UNMAPPED, valid_reason), (NOT_IN_FRAME, f"not an {frame} code")):
        hit = outcome == kind
        lineage.drop(
            "crosswalk", reason, int(counts[hit].sum()), codes=_top(_code_counts(result.codes[hit], counts[hit]))
        )
    lineage.drop("crosswalk", "missing value (blank)", int(counts[outcome == MISSING_CODE].sum()))


def _code_counts(codes: np.ndarray, counts: np.ndarray) -> dict[int, int]:
    """``{code: total count}`` of integer ``codes`` (repeats summed)."""
    totals: dict[int, int] = {}
    for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
        totals[code] = totals.get(code, 0) + count
    return totals


def _numeric_codes(candidates: pd.DataFrame, source: str) -> np.ndarray:
    """Codes as floats (NaN for blanks); non-numeric, non-blank codes raise with their rows."""
    raw = candidates["code"]
    if pd.api.types.is_numeric_dtype(raw) and not isinstance(raw.dtype, pd.CategoricalDtype):
        return raw.to_numpy(dtype=float)
    codes = pd.to_numeric(raw, errors="coerce")
    suspect = np.flatnonzero((codes.isna() & raw.notna()).to_numpy())  # only these can be non-numeric text
    bad = np.zeros(len(raw), dtype=bool)
    bad[suspect] = raw.iloc[suspect].astype(str).str.strip().to_numpy() != ""
    if bad.any():
        rows = np.flatnonzero(bad)
        labels = _row_labels(candidates, rows[:5])
        examples = raw.to_numpy()[rows[:5]].tolist()
        raise ValueError(
            f"{source}: {len(rows)} non-numeric occupation code(s), e.g. {examples} at {labels} (person:year:variable)"
        )
    return codes.to_numpy(dtype=float)


def _row_labels(candidates: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """Labels ``person_id:year:variable`` of candidate positions (for error messages and lineage)."""
    picked = candidates.iloc[np.asarray(rows, dtype=np.int64)]  # a handful of rows: no whole-column copy
    pid, year, var = (picked[c].to_numpy() for c in ("person_id", "year", "variable"))
    return [f"{p}:{y}:{v}" for p, y, v in zip(pid, year, var, strict=True)]


def _top(counts: Mapping[int, int], limit: int = 50) -> dict[int, int]:
    """The ``limit`` commonest codes of ``counts`` (for the lineage detail)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])
