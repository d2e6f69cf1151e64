"""Values of the columns of a resume file: trimmed text, nulls, and dates as day numbers.

A batch of a resume file is a pyarrow record batch (CSV columns are all text,
parquet columns keep their types). These helpers turn its columns into numpy
values. Dates (:func:`parse_dates`) are ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``
(``-``, ``/`` or ``.`` as separator, an optional time of day after ``T`` or a
space), parquet ``date``/``timestamp`` values, or integer years; a partial date
means the whole period (its first day as a start, its last day as an end), and
years outside 1000-3000 are invalid. Days are counted from 1970-01-01.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from laborseq._util.dates import year_start

DATE_PATTERN = (
    r"^\s*(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2}))?)?"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?\s*$"
)


def plain_array(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array


def is_text(array: pa.Array) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def blank_to_null(array: pa.Array) -> pa.Array:
    """Text trimmed, with empty strings as nulls."""
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(pc.utf8_length(trimmed), 0), pa.scalar(None, trimmed.type), trimmed)


def null_mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _day_of(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid (year, month, day) triples."""
    months = (year.astype(np.int64) - 1970) * 12 + (month.astype(np.int64) - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + day.astype(np.int64) - 1


def _month_length(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    months = (year.astype(np.int64) - 1970) * 12 + (month.astype(np.int64) - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    nxt = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return nxt - first


def year_of(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def parse_dates(array: pa.Array, *, is_end: bool) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers and a status per value: 0 valid, 1 missing, 2 unparseable (or outside 1000-3000)."""
    array = plain_array(array)
    n = len(array)
    day = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        dates = pc.cast(array, pa.date32(), safe=False)
        missing = null_mask(dates)
        day = np.asarray(pc.cast(dates, pa.int32()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        year = year_of(day)
        status[(year < 1000) | (year > 3000)] = 2
        status[missing] = 1
        return day, status
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):  # whole years
        values = np.asarray(pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        missing = np.isnan(values)
        ok = ~missing & (values == np.floor(np.where(missing, 0, values))) & (values >= 1000) & (values <= 3000)
        year = np.where(ok, values, 2000).astype(np.int64)
        day = np.where(is_end, year_start(year + 1) - 1, year_start(year))
        status[~ok] = 2
        status[missing] = 1
        return day, status
    if not is_text(array):
        array = pc.cast(array, pa.string())
    text = blank_to_null(array)
    missing = null_mask(text)
    parts = pc.extract_regex(text, DATE_PATTERN)
    matched = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    fields = {}
    for key, field in zip(("y", "m", "d"), parts.flatten(), strict=True):  # flatten: offsets and nulls applied
        blank = pc.equal(pc.utf8_length(field), 0).fill_null(True)
        empty = np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)
        value = pc.cast(pc.if_else(blank, "0", field.fill_null("0")), pa.int64())
        fields[key] = (np.asarray(value.to_numpy(zero_copy_only=False), dtype=np.int64), empty)
    year, _ = fields["y"]
    month, no_month = fields["m"]
    dom, no_day = fields["d"]
    month = np.where(no_month, 12 if is_end else 1, month)
    ok = matched & (year >= 1000) & (year <= 3000) & (month >= 1) & (month <= 12)
    year = np.where(ok, year, 2000)
    month = np.where(ok, month, 1)
    length = _month_length(year, month)
    dom = np.where(no_day, length if is_end else 1, dom)
    ok &= (dom >= 1) & (dom <= length)
    day = np.where(ok, _day_of(year, month, np.where(ok, dom, 1)), 0)
    status[~ok] = 2
    status[missing] = 1
    return day, status
