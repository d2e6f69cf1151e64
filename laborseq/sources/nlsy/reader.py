"""From an NLS Investigator export to a harmonised panel (shared by the NLSY79 and NLSY97 readers).

:func:`read_investigator` reads a ``.csv`` (header = reference numbers or
renamed question names) or a ``.dat`` with its tagset
(:mod:`laborseq.sources.nlsy.investigator`), resolves every column to a
question name, survey year and role (:mod:`laborseq.sources.nlsy.columns`),
reads only the columns it needs, and turns them into the long candidate table
of :func:`~laborseq.sources.harmonize.harmonize` (one row per person and
occupation variable) with the covariates of
:mod:`laborseq.sources.nlsy.covariates`, then calls it. The cohort readers
(:mod:`laborseq.sources.nlsy.nlsy79`, :mod:`laborseq.sources.nlsy.nlsy97`) say
which question names are occupations and covariates. The file layouts are
described in ``docs/survey-formats.md``, section C.1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laborseq.occupations.crosswalk import CrosswalkTable, OnUnmapped, user_crosswalks
from laborseq.occupations.occ1990dd import Variant
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import SpecialCode, harmonize
from laborseq.sources.nlsy.columns import (
    Cohort,
    Column,
    OccupationVariable,
    bare_names,
    frame_from_title,
    resolve_bare_names,
    resolve_columns,
)
from laborseq.sources.nlsy.covariates import covariate_columns, round_covariates, static_covariates
from laborseq.sources.nlsy.investigator import (
    MISSING_CODES,
    NLSYFormatError,
    load_codebook,
    read_header,
    read_tagset,
    read_values,
    sidecar,
)
from laborseq.sources.nlsy.names import normalize_refnum


def read_investigator(
    path: str | os.PathLike[str],
    cohort: Cohort,
    *,
    codebook: str | os.PathLike[str] | bool | None,
    tagset: str | os.PathLike[str] | None,
    rounds: Iterable[int] | None,
    persons: Iterable[int] | None,
    priority: Callable[[str, int], int],
    special_codes: Mapping[tuple[str, int], SpecialCode],
    variant: Variant,
    on_unmapped: OnUnmapped,
    options: Mapping[str, Any],
    crosswalk: CrosswalkTable | None = None,
) -> CareerPanel:
    """Parse an Investigator export into candidates and covariates and harmonize them.

    See :func:`laborseq.sources.nlsy.nlsy79.read_nlsy79` for the parameters;
    ``priority(kind, job)`` gives the priority of an occupation variable.
    """
    if on_unmapped not in ("drop", "raise"):
        raise ValueError(f"on_unmapped must be 'drop' or 'raise', got {on_unmapped!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{cohort.name} export not found: {path}")
    if not path.is_file():
        raise NLSYFormatError(f"{path} is not a file")
    if path.stat().st_size == 0 or not _read_head(path).strip():
        raise NLSYFormatError(f"{path}: the file is empty")

    book = load_codebook(path, codebook)
    tag_path = Path(tagset) if tagset is not None else sidecar(path, cohort.tagset_suffix)
    if tagset is not None and not tag_path.is_file():  # type: ignore[union-attr]
        raise FileNotFoundError(f"tagset not found: {tagset}")

    is_dat = path.suffix.lower() == ".dat"
    if is_dat:
        if tag_path is None:
            raise NLSYFormatError(
                f"{path}: a .dat file has no header; give its tagset (tagset=...) or put "
                f"{path.stem}{cohort.tagset_suffix} beside it"
            )
        names, header, delimiter, layout = read_tagset(tag_path), False, " ", "a space-separated .dat"
    else:
        names, header, delimiter, layout = read_header(path), True, ",", "an Investigator CSV"
        if all(_is_number(n) for n in names):  # no header row: the tagset names the columns
            if tag_path is None:
                raise NLSYFormatError(f"{path}: the first line is data, not a header; give the tagset")
            names, header = read_tagset(tag_path), False
    style = "tagset" if not header else _header_style(names)
    resolved_by = None
    if header:
        tags = read_tagset(tag_path) if tag_path is not None else None
        names, resolved_by = resolve_bare_names(str(path), names, book, tags, cohort.catalogue)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise NLSYFormatError(
                f"{path}: the header repeats column(s) {_preview(dupes)}; each column must be a different variable"
            )

    columns = resolve_columns(names, cohort, book)
    ids_col = [c for c in columns if c.role is not None and c.role.kind == "id"]
    if not ids_col:
        raise NLSYFormatError(
            f"{path}: no person id column (R0000100 or {cohort.id_name}_{_id_year(cohort)}); "
            f"the columns are {_preview(names)}"
        )
    id_col = ids_col[0]
    occupations = _occupation_variables(path, columns, cohort, priority)
    file_rounds = sorted({v.year for v in occupations})
    outside: list[OccupationVariable] = []
    if rounds is not None:  # columns of other rounds are not read, but their candidates are counted
        chosen = {int(r) for r in rounds}
        if not chosen & set(file_rounds):
            raise ValueError(f"{path}: none of the selected rounds {sorted(chosen)} is in the file ({file_rounds})")
        outside = [v for v in occupations if v.year not in chosen]
        occupations = [v for v in occupations if v.year in chosen]
    static_cols, round_cols, unused = covariate_columns(columns, id_col, occupations + outside)
    round_cols = [c for c in round_cols if c.year in {v.year for v in occupations}]

    wanted = {id_col.position: "float64"}
    wanted.update({v.column.position: "float32" for v in occupations})
    wanted.update({c.position: "float32" for c in static_cols + round_cols})  # exact for integers < 2**24
    values = read_values(
        path,
        n_fields=len(names),
        header=header,
        delimiter=delimiter,
        wanted=wanted,
        describe=lambda i: columns[i].described,
        layout=layout,
    )
    ids = _person_ids(path, values[id_col.position], id_col, header)

    # ---- selection, counted in the lineage
    n = len(ids)
    lineage = Lineage(source=str(path), rows_read=n * (len(occupations) + len(outside)), unit="candidate occupation")
    keep_person = np.ones(n, dtype=bool)
    if persons is not None:
        wanted_ids = np.unique(np.asarray(list(persons), dtype=np.int64))
        keep_person = np.isin(ids, wanted_ids)
        if not keep_person.any():
            raise ValueError(f"{path}: none of the {len(wanted_ids)} selected persons is in the file")
        lineage.drop("persons", "person not selected", int((~keep_person).sum()) * (len(occupations) + len(outside)))
    if outside:
        lineage.drop(
            "rounds",
            "outside selected rounds",
            int(keep_person.sum()) * len(outside),
            rounds=sorted({v.year for v in outside}),
        )

    selected = ids[keep_person]
    candidates = _candidates(selected, occupations, values, keep_person)
    person_cov = static_covariates(selected, static_cols, values, keep_person, cohort)
    round_cov, weight, weight_note = round_covariates(selected, round_cols, values, keep_person, cohort, occupations)

    del values  # the candidates and covariates hold what harmonize needs
    frames = sorted({v.frame for v in occupations})
    metadata = {
        "source": cohort.name,
        "path": str(path),
        "layout": layout,
        "header": style + (f" (rounds from the {resolved_by})" if resolved_by else ""),
        "codebook": book.path if book else None,
        "tagset": str(tag_path) if tag_path else None,
        **options,
        "rounds": sorted({v.year for v in occupations}),
        "rounds_in_file": file_rounds,
        "occupation_variables": [
            {
                "variable": v.label,
                "column": v.column.name,
                "refnum": v.column.refnum,
                "year": v.year,
                "frame": v.frame,
                "frame_from": "codebook title" if v.frame_from_codebook else "round table",
                "priority": v.priority,
            }
            for v in sorted(occupations, key=lambda v: (v.year, v.priority))
        ],
        "ignored_columns": [c.name for c in columns if c.source == "unknown"],
        "n_ignored_columns": sum(c.source == "unknown" for c in columns),
        "unused_columns": [c.described for c in unused],
        "weight": weight_note,
    }
    return harmonize(
        candidates,
        source=str(path),
        variant=variant,
        missing_codes=MISSING_CODES,
        special_codes=special_codes,
        on_unmapped=on_unmapped,
        covariates=round_cov,
        person_covariates=person_cov,
        weight=weight,
        name=cohort.name.lower(),
        metadata=metadata,
        lineage=lineage,
        crosswalks=None if crosswalk is None else user_crosswalks(crosswalk, variant, frames),
    )


def _read_head(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as handle:
        return handle.read(size).decode("utf-8", errors="replace").lstrip("\ufeff")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _id_year(cohort: Cohort) -> str:
    return "1979" if cohort.name == "NLSY79" else "1997"


def _preview(items: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(str(x) for x in items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}] ({len(items)} in all)"


def _header_style(names: Sequence[str]) -> str:
    """How the header names its columns (for the metadata)."""
    refs = sum(normalize_refnum(n) is not None for n in names)
    bare = len(bare_names(names))
    if refs == len(names):
        return "reference numbers"
    if refs == 0:
        return "question names" if bare == 0 else "question names without survey years"
    return "mixed"


def _occupation_variables(
    path: Path, columns: Sequence[Column], cohort: Cohort, priority: Callable[[str, int], int]
) -> list[OccupationVariable]:
    found: dict[tuple[str, int, int], OccupationVariable] = {}
    for col in columns:
        if col.role is None or not col.role.is_occupation:
            continue
        year = col.year
        if year is None:
            raise NLSYFormatError(
                f"{path}: occupation column {col.described} has no survey year; rename it <question>_<year> "
                f"(e.g. {col.qname}_1990), or put the extract's tagset ({path.stem}{cohort.tagset_suffix}) or "
                f"codebook ({path.stem}.cdb) beside the file"
            )
        kind, job = col.role.kind, col.role.job
        frame, decided = frame_from_title(col.title, cohort.default_frame(kind, year))
        var = OccupationVariable(
            col, kind, job, year, frame, decided, priority(kind, job), cohort.label(kind, job, year)
        )
        key = (kind, job, year)
        if key in found:
            raise NLSYFormatError(
                f"{path}: occupation variable {var.label} appears twice "
                f"(columns {found[key].column.name} and {col.name})"
            )
        found[key] = var
    if not found:
        unknown = [c.name for c in columns if c.source == "unknown"]
        resolved = [c.described for c in columns if c.source != "unknown"]
        seen = f"the columns resolve to {_preview(resolved)}" if resolved else "no column resolves to a question"
        if unknown:
            seen += f"; reference numbers the reader cannot name: {_preview(unknown)}"
        hint = (
            ""
            if any(c.source == "codebook" for c in columns)
            else f"; if the extract has them, put its codebook ({path.stem}.cdb) beside the file or pass codebook="
        )
        raise NLSYFormatError(
            f"{path}: no {cohort.name} occupation variable; the reader looks for {cohort.occupation_questions}, "
            f"but {seen}{hint}. Add an occupation question to the extract in NLS Investigator"
        )
    return sorted(found.values(), key=lambda v: (v.year, v.priority))


def _person_ids(path: Path, raw: np.ndarray, col: Column, header: bool) -> np.ndarray:
    blank = ~np.isfinite(raw)
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise NLSYFormatError(
            f"{path}: person id column {col.described} is blank in data row {row + 1} (line {row + 1 + int(header)})"
        )
    fractional = raw != np.floor(raw)
    if fractional.any():
        row = int(np.flatnonzero(fractional)[0])
        raise NLSYFormatError(
            f"{path}: person id {raw[row]} in data row {row + 1} (line {row + 1 + int(header)}) is not an integer"
        )
    ids = raw.astype(np.int64)
    order = np.sort(ids)
    repeated = np.unique(order[1:][order[1:] == order[:-1]])
    if len(repeated):
        rows = np.flatnonzero(np.isin(ids, repeated[:10])) + 1
        raise NLSYFormatError(
            f"{path}: person id(s) {repeated[:10].tolist()}{' ...' if len(repeated) > 10 else ''} appear more "
            f"than once in column {col.described} ({len(repeated)} repeated id(s); data rows {rows[:10].tolist()})"
        )
    return ids


def _candidates(
    ids: np.ndarray, occupations: Sequence[OccupationVariable], values: Mapping[int, np.ndarray], keep: np.ndarray
) -> pd.DataFrame:
    """One row per person x occupation variable, person-major (a person's rows in year and priority order).

    ``person_id`` int64, ``year`` int16, ``code`` float32 (NaN for blanks),
    ``priority`` int16. ``frame`` is a categorical over object-dtype categories
    (materialized once by harmonize, sharing one string object per category).
    ``variable`` is an object column of shared strings: harmonize labels the
    example rows of every unmapped code with ``candidates["variable"].to_numpy()``,
    which for a categorical rebuilds the whole column per code (about 10x
    slower on exports with hundreds of unmapped codes).
    """
    m, k = len(ids), len(occupations)
    all_persons = bool(keep.all())
    code = np.empty((m, k), dtype=np.float32)
    for j, var in enumerate(occupations):
        column = values[var.column.position]
        code[:, j] = column if all_persons else column[keep]
    frames = list(dict.fromkeys(v.frame for v in occupations))
    frame_codes = np.array([frames.index(v.frame) for v in occupations], dtype=np.int8)
    variable_codes = np.arange(k, dtype=np.int16 if k < 2**15 else np.int32)
    return pd.DataFrame(
        {
            "person_id": np.repeat(ids, k),
            "year": np.tile(np.array([v.year for v in occupations], dtype=np.int16), m),
            "variable": pd.Series(
                np.array([v.label for v in occupations], dtype=object)[np.tile(variable_codes, m)], dtype=object
            ),
            "frame": pd.Categorical.from_codes(np.tile(frame_codes, m), categories=pd.Index(frames, dtype=object)),
            "code": code.ravel(),
            "priority": np.tile(np.array([v.priority for v in occupations], dtype=np.int16), m),
        },
        copy=False,
    )
