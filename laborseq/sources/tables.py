"""A user's own long table (CSV, TSV, Stata ``.dta`` or parquet) as a career panel.

Economists keep their panels as one row per person and year in a CSV or a
Stata file, with their own column names and often raw Census occupation codes.
:func:`read_table` reads such a file, names its columns, and either keeps the
occupation column as the states (``from_scheme=None``) or harmonises raw codes
of a Census frame to occ1990dd through :func:`~laborseq.sources.harmonize.harmonize`,
so that every row not kept is counted in the panel's lineage.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laborseq._util.json import plain
from laborseq.occupations.crosswalk import FRAMES, Crosswalk, CrosswalkTable, OnUnmapped, user_crosswalks
from laborseq.occupations.occ1990dd import Variant, check_variant
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.panel.validation import PanelValidationError
from laborseq.sources.harmonize import harmonize

__all__ = ["TABLE_FORMATS", "TableFormatError", "is_panel_parquet", "read_table", "table_format"]

TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".dta": "stata",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""File suffixes :func:`read_table` reads (a ``.gz``, ``.bz2``, ``.zip`` or ``.xz`` suffix may follow a CSV/TSV one)."""

_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")


class TableFormatError(ValueError):
    """A table that cannot be read as a career panel; the message names the file, column and rows."""


def table_format(path: str | os.PathLike[str]) -> str:
    """``"csv"``, ``"tsv"``, ``"stata"`` or ``"parquet"`` from the file's suffix.

    Raises
    ------
    TableFormatError
        For another suffix, listing the ones that are read.
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    kind = TABLE_FORMATS.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise TableFormatError(
            f"{path}: cannot tell the file's format from its name; use one of the suffixes "
            f"{', '.join(TABLE_FORMATS)} (CSV/TSV may be compressed: {', '.join(_COMPRESSED)})"
        )
    return kind


def read_table(
    path: str | os.PathLike[str],
    *,
    person: str = PERSON,
    year: str = YEAR,
    occ: str = OCC,
    covariates: Sequence[str] = (),
    static: Sequence[str] | None = None,
    weight: str | None = None,
    from_scheme: str | None = None,
    variant: Variant = "dorn2013",
    on_unmapped: OnUnmapped = "drop",
    crosswalk: CrosswalkTable | None = None,
    scheme: OccupationScheme | None = None,
    name: str | None = None,
) -> CareerPanel:
    """Read a long table with one row per person and year into a :class:`CareerPanel`.

    Parameters
    ----------
    path : path-like
        A ``.csv``, ``.tsv``/``.tab``/``.txt`` (tab-separated), Stata ``.dta``
        or ``.parquet`` file. A parquet file written by
        :meth:`CareerPanel.to_parquet` is read as it was written, and the
        column arguments are ignored.
    person, year, occ : str
        The columns holding the person key, the calendar year and the
        occupation (a state label, or a raw code with ``from_scheme``).
    covariates : sequence of str
        Further columns to keep as covariates. Stata value labels become
        categories (text), as do text columns of a CSV.
    static : sequence of str, optional
        Which of ``covariates`` are constant within a person (checked); by
        default those that are.
    weight : str, optional
        A survey-weight column (finite and non-negative).
    from_scheme : str, optional
        The Census frame of raw codes in ``occ`` (``"occ1970"``, ``"occ1980"``,
        ``"occ1990"``, ``"occ2000"``, ``"occ2000_4digit"``, ``"occ2005"``,
        ``"occ2010"``, or ``"occ1990dd"`` for codes that are occ1990dd
        already): the codes are mapped to occ1990dd and the lineage counts
        every row not kept (blank codes, negative codes (survey missing
        values), codes meaning no occupation, codes that do not map). ``None`` (default): ``occ`` holds the states
        as they are, and rows with a blank occupation are dropped and counted.
    variant : {"dorn2013", "deming2017"}
        occ1990dd family when harmonising.
    on_unmapped : {"drop", "raise"}
        Codes the crosswalk lacks: counted drops, or an error naming them.
    crosswalk : DataFrame or path, optional
        Your own crosswalk rows for ``from_scheme`` (``from_code``, ``occ1990dd``),
        added over the built-in one and counted as "your crosswalk" in the lineage.
    scheme : OccupationScheme, optional
        The state space (e.g. a saved model's ``scheme_``, so that new persons
        are scored over the states the model knows); by default built from
        the observed states, or occ1990dd when harmonising.
    name : str, optional
        Panel name for reports (default: the file's stem).

    Returns
    -------
    CareerPanel
        With ``panel.lineage``: rows read, rows kept, and every drop with its reason.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TableFormatError
        On an unknown suffix, a column that is not in the file (the file's
        columns are listed), a blank person key or year, a year that is not an
        integer, or a person-year that appears twice (rows named).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    kind = table_format(path)
    if from_scheme is not None and from_scheme not in FRAMES:
        raise TableFormatError(f"unknown code frame {from_scheme!r}; choose from {', '.join(FRAMES)}")
    variant = check_variant(variant)
    if kind == "parquet" and is_panel_parquet(path):
        return CareerPanel.read_parquet(path)
    covariates = list(dict.fromkeys(covariates))
    clash = [c for c in covariates if c in (person, year, occ)]
    if clash:
        raise TableFormatError(
            f"{path}: column(s) {clash} are the person, year or occupation; leave them out of the covariates"
        )
    wanted = list(dict.fromkeys([person, year, occ, *covariates, *([weight] if weight else [])]))
    data = _read(path, kind, wanted, raw_codes=occ if from_scheme is not None else None)
    data = data.reset_index(drop=True)
    _check_keys(path, data, person, year)
    lineage = Lineage(source=str(path), rows_read=len(data), unit="person-year")
    metadata: dict[str, Any] = {"source": str(path), "format": kind}
    metadata["columns"] = {"person": person, "year": year, "occ": occ}
    if from_scheme is None:
        blank = (data[occ].isna() | (data[occ].astype(str).str.strip() == "")).to_numpy()
        lineage.drop("read", f"blank occupation ({occ})", int(blank.sum()))
        data = data.loc[~blank]
    else:
        tables = None if crosswalk is None else user_crosswalks(crosswalk, variant, [from_scheme])
        harmonized = _harmonize(path, data, person, year, occ, from_scheme, variant, on_unmapped, lineage, tables)
        scheme = scheme or harmonized.scheme
        others = data.drop(columns=[occ]).rename(columns={person: PERSON, year: YEAR})
        data = harmonized.data[[PERSON, YEAR, OCC]].merge(others, on=[PERSON, YEAR], how="left", validate="1:1")
        person, year, occ = PERSON, YEAR, OCC
        metadata |= {"from_scheme": from_scheme, "occ1990dd_variant": variant}
    lineage.check(len(data))
    try:
        return CareerPanel(
            data,
            person=person,
            year=year,
            occ=occ,
            covariates=covariates,
            static=static,
            weight=weight,
            scheme=scheme,
            name=name or _stem(path),
            metadata={**metadata, "lineage": lineage.to_dict()},
        )
    except PanelValidationError as err:  # name the file: the panel's own message names the column and rows
        raise TableFormatError(f"{path}: {err}") from err


def _harmonize(
    path: Path,
    data: pd.DataFrame,
    person: str,
    year: str,
    occ: str,
    frame: str,
    variant: Variant,
    on_unmapped: OnUnmapped,
    lineage: Lineage,
    crosswalks: dict[str, Crosswalk] | None,
) -> CareerPanel:
    """The occupations of ``data``, raw codes of ``frame``, harmonised to occ1990dd (every drop in ``lineage``)."""
    codes = _codes(path, data[occ], occ)
    candidates = pd.DataFrame(
        {
            "person_id": data[person].to_numpy(),
            "year": data[year].to_numpy(),
            "variable": np.full(len(data), occ, dtype=object),
            "frame": frame,
            "code": codes,
            "priority": np.zeros(len(data), dtype=np.int16),
        }
    )
    negative = {int(c): "negative code (a survey missing-value code)" for c in np.unique(codes[codes < 0])}
    return harmonize(
        candidates,
        source=str(path),
        variant=variant,
        missing_codes=negative,
        on_unmapped=on_unmapped,
        lineage=lineage,
        crosswalks=crosswalks,
    )


def _read(path: Path, kind: str, columns: list[str], raw_codes: str | None) -> pd.DataFrame:
    """The wanted columns of the file (Stata value labels as categories, except raw code columns)."""
    present = _columns_of(path, kind)
    missing = [c for c in columns if c not in present]
    if missing:
        shown = ", ".join(present[:30]) + (f" ... ({len(present)} in all)" if len(present) > 30 else "")
        raise TableFormatError(
            f"{path}: no column(s) {missing}; the file has columns: {shown}. Name the columns with "
            "--person, --year, --occ, --covariates, --weight (person=, year=, occ=, ... in Python)"
        )
    if kind in ("csv", "tsv"):
        return pd.read_csv(
            path, sep="," if kind == "csv" else "\t", usecols=columns, low_memory=False, skipinitialspace=True
        )[columns]
    if kind == "parquet":
        return pd.read_parquet(path, columns=columns)
    frame = pd.read_stata(path, columns=columns, convert_categoricals=True)
    if raw_codes is not None and isinstance(frame[raw_codes].dtype, pd.CategoricalDtype):
        frame[raw_codes] = pd.read_stata(path, columns=[raw_codes], convert_categoricals=False)[raw_codes]
    return frame


def _columns_of(path: Path, kind: str) -> list[str]:
    try:
        if kind in ("csv", "tsv"):
            return [str(c).strip() for c in pd.read_csv(path, sep="," if kind == "csv" else "\t", nrows=0).columns]
        if kind == "parquet":
            import pyarrow.parquet as pq  # noqa: PLC0415 - only parquet files need it

            return list(pq.read_schema(path).names)
        with pd.io.stata.StataReader(path) as reader:
            return list(reader.variable_labels())
    except Exception as err:
        raise TableFormatError(f"{path}: cannot be read as a {kind} file: {_one_line(err)}") from err


def is_panel_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a parquet file written by :meth:`CareerPanel.to_parquet` (laborseq's schema metadata)."""
    import pyarrow.parquet as pq  # noqa: PLC0415 - only parquet files need it

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception as err:
        raise TableFormatError(f"{path}: cannot be read as a parquet file: {_one_line(err)}") from None
    return b"laborseq" in metadata


def _check_keys(path: Path, data: pd.DataFrame, person: str, year: str) -> None:
    """Person keys and years present, years integral, no person-year twice."""
    for column in (person, year):
        blank = np.flatnonzero(data[column].isna().to_numpy())
        if len(blank):
            raise TableFormatError(
                f"{path}: column {column!r} is blank in {len(blank)} row(s), e.g. data rows {_rows(blank)}; "
                "every row needs a person and a year"
            )
    values = pd.to_numeric(data[year], errors="coerce")
    bad = np.flatnonzero((values.isna() | (values != np.floor(values))).to_numpy())
    if len(bad):
        raise TableFormatError(
            f"{path}: column {year!r} holds {plain(data[year].iloc[bad[0]])!r} in data row {bad[0] + 1}; "
            "years must be integers such as 1990"
        )
    data[year] = values.astype(np.int64)
    twice = np.flatnonzero(data.duplicated([person, year], keep=False).to_numpy())
    if len(twice):
        first = data.iloc[twice[0]]
        who, when = plain(first[person]), plain(first[year])
        n_rows = int((data[person] == first[person]).to_numpy()[twice].sum())
        raise TableFormatError(
            f"{path}: person {who!r} has {n_rows} rows for year {when} ({len(twice)} rows repeat a person-year, "
            f"e.g. data rows {_rows(twice)}); "
            "keep one row per person and year"
        )


def _codes(path: Path, raw: pd.Series, column: str) -> np.ndarray:
    """Raw occupation codes as floats (NaN for blanks); text that is not a number raises with its rows."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.astype(object)
    codes = pd.to_numeric(raw, errors="coerce")
    text = raw.astype(str).str.strip()
    bad = np.flatnonzero((codes.isna() & raw.notna() & (text != "")).to_numpy())
    if len(bad):
        raise TableFormatError(
            f"{path}: column {column!r} holds {plain(raw.iloc[bad[0]])!r} in data row {bad[0] + 1} "
            f"({len(bad)} such rows); raw Census codes must be numbers"
        )
    return codes.to_numpy(dtype=float)


def _rows(positions: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(p) + 1) for p in positions[:limit])
    return shown + (" ..." if len(positions) > limit else "")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in reversed(path.suffixes):
        name = name[: -len(suffix)] if name.endswith(suffix) else name
    return name or path.stem


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())
