"""Validation and cleaning of the columns a :class:`~laborseq.panel.core.CareerPanel` is built from.

Every check raises :class:`PanelValidationError` naming the offending column and
rows (index labels of the input DataFrame), so that a reader can point its user
at the bad records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from laborseq._util.json import plain
from laborseq.occupations.scheme import STATUS_TOKENS, OccupationScheme
from laborseq.panel.columns import OCC, PERSON, TARGET, WEIGHT, YEAR


class PanelValidationError(ValueError):
    """Raised when data cannot form a valid :class:`~laborseq.panel.core.CareerPanel`.

    Attributes
    ----------
    column : str or None
        The offending column.
    rows : list
        Index labels of the offending rows in the input DataFrame (positions when
        its index is not unique), or person keys.
    """

    def __init__(self, message: str, *, column: str | None = None, rows: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.column = column
        self.rows = list(rows)


def check_columns(data: pd.DataFrame, required: Sequence[str], covariates: Sequence[str]) -> None:
    """Check that the ``required`` columns exist and that covariate names are distinct and not reserved."""
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise PanelValidationError(
            f"CareerPanel: column(s) {missing} not found; the data have columns {list(data.columns)}",
            column=missing[0],
        )
    reserved = {PERSON, YEAR, OCC, WEIGHT, TARGET}
    clash = [c for c in covariates if c in reserved]
    if clash:
        raise PanelValidationError(f"CareerPanel: covariate name(s) {clash} are reserved", column=clash[0])
    if len(set(covariates)) != len(covariates):
        raise PanelValidationError(f"CareerPanel: covariates listed twice: {list(covariates)}")


def preview(labels: Iterable[Any], limit: int = 10) -> str:
    """The first ``limit`` labels for an error message, e.g. ``[3, 'a' and 12 more]``."""
    labels = [plain(x) for x in labels]
    shown = ", ".join(repr(x) if isinstance(x, str) else str(x) for x in labels[:limit])
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return f"[{shown}{more}]"


def _fail(message: str, column: str, rows: pd.Index | Sequence[Any]) -> PanelValidationError:
    rows = list(rows)
    return PanelValidationError(
        f"CareerPanel: {message} in column {column!r} at {len(rows)} row(s) {preview(rows)}",
        column=column,
        rows=rows,
    )


def clean_person(values: pd.Series, column: str) -> pd.Series:
    """Person keys as int64 (integers, whole-number floats) or str; no missing or boolean keys."""
    bad = values.isna()
    if bad.any():
        raise _fail("missing person key", column, values.index[bad])
    if pd.api.types.is_bool_dtype(values):
        raise _fail("boolean person key", column, values.index[:1])
    if pd.api.types.is_integer_dtype(values):
        return values.astype(np.int64)
    if pd.api.types.is_float_dtype(values):
        frac = values != np.floor(values)
        if frac.any():
            raise _fail("non-integer numeric person key", column, values.index[frac])
        return values.astype(np.int64)
    return values.astype(str)


def clean_year(values: pd.Series, column: str, unit: str = "year") -> pd.Series:
    """Periods as integers: calendar years in 1000-3000 (int16), or months ``12 * year + month - 1`` of such years.

    ``unit`` is the panel's time unit (:mod:`laborseq.panel.periods`).
    """
    if pd.api.types.is_bool_dtype(values):
        raise _fail("boolean year", column, values.index[:1])
    numeric = pd.to_numeric(values, errors="coerce")
    missing = values.isna()
    if missing.any():
        raise _fail("missing year", column, values.index[missing])
    bad = numeric.isna() | (numeric != np.floor(numeric))
    if bad.any():
        raise _fail(f"non-integer year (e.g. {plain(values[bad].iloc[0])!r})", column, values.index[bad])
    if unit == "month":
        out_of_range = (numeric < 12 * 1000) | (numeric > 12 * 3000 + 11)
        if out_of_range.any():
            raise _fail(
                f"month period outside the years 1000-3000 (e.g. {numeric[out_of_range].iloc[0]:g}; a monthly "
                "panel counts months as 12 * year + month - 1: laborseq.panel.periods.month_period(year, month))",
                column,
                values.index[out_of_range],
            )
        return numeric.astype(np.int32)
    out_of_range = (numeric < 1000) | (numeric > 3000)
    if out_of_range.any():
        raise _fail(
            f"year outside 1000-3000 (e.g. {numeric[out_of_range].iloc[0]:g}; two-digit years must be made four-digit)",
            column,
            values.index[out_of_range],
        )
    return numeric.astype(np.int16)


def state_categorical(
    values: pd.Series, column: str, scheme: OccupationScheme | None, name: str | None
) -> tuple[pd.Categorical, OccupationScheme]:
    """States as a categorical over the scheme's states (the scheme is built from the data if not given).

    Values are factorized first and only the distinct values are converted to
    strings, so tens of millions of rows cost one hash pass.
    """
    missing = values.isna()
    if missing.any():
        raise _fail("missing state", column, values.index[missing])
    codes, uniques = pd.factorize(values, sort=False)
    labels = [_state_label(u) for u in np.asarray(uniques, dtype=object)]
    if scheme is None:
        scheme = OccupationScheme.from_codes(
            [u for u in labels if u not in STATUS_TOKENS],
            name=name or "observed",
            status_tokens=[t for t in STATUS_TOKENS if t in set(labels)],
        )
    lookup = np.array([scheme.index(u) if u in scheme else -1 for u in labels], dtype=np.int32)
    state_codes = lookup[codes] if len(codes) else np.zeros(0, dtype=np.int32)
    unknown = state_codes < 0
    if unknown.any():
        bad = sorted({labels[i] for i in np.flatnonzero(lookup < 0)})
        raise _fail(f"state(s) {preview(bad)} not in scheme {scheme.name!r}", column, values.index[unknown])
    return pd.Categorical.from_codes(state_codes, categories=list(scheme.states)), scheme


def _state_label(value: Any) -> str:
    """A state value as the string used in schemes (whole-number floats without ``.0``)."""
    value = plain(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def clean_weight(values: pd.Series, column: str) -> pd.Series:
    """Survey weights as float; each must be finite and non-negative."""
    numeric = pd.to_numeric(values, errors="coerce").astype(float)
    missing = numeric.isna() | ~np.isfinite(numeric)
    if missing.any():
        raise _fail("missing or non-numeric weight", column, values.index[missing])
    negative = numeric < 0
    if negative.any():
        raise _fail("negative weight", column, values.index[negative])
    return numeric


def clean_target(values: pd.Series, column: str) -> np.ndarray:
    """The target flags as a boolean array (the column must be boolean, without missing values)."""
    if not pd.api.types.is_bool_dtype(values):
        raise _fail("target column must be boolean", column, values.index[:1])
    missing = values.isna()
    if missing.any():
        raise _fail("missing target flag", column, values.index[missing])
    return values.to_numpy(dtype=bool)


def _same_person_as_previous(frame: pd.DataFrame) -> np.ndarray:
    """For rows sorted by person: whether each row has the same person as the row before.

    This runs while a panel is being built, before its person offsets exist.
    """
    persons = frame[PERSON].to_numpy()
    out = np.zeros(len(persons), dtype=bool)
    out[1:] = persons[1:] == persons[:-1]
    return out


def check_duplicates(frame: pd.DataFrame, person: str, year: str) -> None:
    """Raise on duplicate person-years in a frame sorted by person and year (adjacent rows).

    ``person`` and ``year`` are the input's column names, for the message.
    """
    years = frame[YEAR].to_numpy()
    repeat = _same_person_as_previous(frame)
    repeat[1:] &= years[1:] == years[:-1]
    if repeat.any():
        dup = repeat.copy()
        dup[:-1] |= repeat[1:]
        first = frame[dup].iloc[0]
        rows = list(frame.index[dup])
        raise PanelValidationError(
            f"CareerPanel: duplicate person-year in columns ({person!r}, {year!r}), e.g. person "
            f"{plain(first[PERSON])!r} in {plain(first[YEAR])}, at {len(rows)} row(s) {preview(rows)}",
            column=year,
            rows=rows,
        )


def resolve_static(frame: pd.DataFrame, covariates: list[str], static: Sequence[str] | None) -> set[str]:
    """Covariates constant within every person (missing counts as a value); check declared ones.

    ``frame`` is sorted by person. With ``static=None`` the constant covariates
    are returned; otherwise each declared one must be a constant covariate.
    """
    if not covariates:
        return set()
    same = _same_person_as_previous(frame)
    varying_rows = {}
    for cov in covariates:
        codes = pd.factorize(frame[cov], use_na_sentinel=False)[0]
        changes = np.zeros(len(codes), dtype=bool)
        changes[1:] = codes[1:] != codes[:-1]
        varying_rows[cov] = changes & same
    constant = {c for c in covariates if not varying_rows[c].any()}
    if static is None:
        return constant
    unknown = set(static) - set(covariates)
    if unknown:
        raise PanelValidationError(f"CareerPanel: static covariate(s) {sorted(unknown)} are not covariates")
    for cov in static:
        if cov not in constant:
            persons = pd.unique(frame[PERSON].to_numpy()[varying_rows[cov]])
            raise PanelValidationError(
                f"CareerPanel: static covariate {cov!r} varies within {len(persons)} person(s) {preview(persons)}",
                column=cov,
                rows=list(persons),
            )
    return set(static)
