"""The time unit of a panel: calendar years (the default) or months, and how periods read.

A panel's period column (``year``) holds integers. In an annual panel they are
calendar years. In a monthly panel they count months: period
``12 * year + (month - 1)`` (:func:`month_period`), so differences are months
(gaps, forecast horizons) and the calendar year is ``period // 12``.
"""

from __future__ import annotations

import numpy as np

TIME_UNITS: tuple[str, ...] = ("year", "month")
"""The time units a panel may have."""

PERIODS_PER_YEAR = {"year": 1, "month": 12}


def check_time_unit(unit: str) -> str:
    """``unit`` if it is one of :data:`TIME_UNITS`; a ``ValueError`` naming the choices otherwise."""
    if unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {TIME_UNITS}, got {unit!r}")
    return unit


def month_period(year: np.ndarray | int, month: np.ndarray | int) -> np.ndarray:
    """The period of calendar ``month`` (1-12) of ``year`` in a monthly panel: ``12 * year + month - 1``."""
    year, month = np.asarray(year, dtype=np.int64), np.asarray(month, dtype=np.int64)
    if np.any((month < 1) | (month > 12)):
        raise ValueError("months must be between 1 and 12")
    return 12 * year + month - 1


def calendar_year(periods: np.ndarray, unit: str) -> np.ndarray:
    """The calendar year of each period."""
    periods = np.asarray(periods, dtype=np.int64)
    return periods // PERIODS_PER_YEAR[check_time_unit(unit)]


def period_label(period: int, unit: str) -> str:
    """How a period reads: ``"1993"`` in an annual panel, ``"1993-07"`` in a monthly one."""
    if check_time_unit(unit) == "year":
        return str(int(period))
    year, month = divmod(int(period), 12)
    return f"{year}-{month + 1:02d}"


def unit_name(unit: str, plural: bool = False) -> str:
    """``"year"`` / ``"month"`` (or their plurals), for labels."""
    return check_time_unit(unit) + ("s" if plural else "")


def parse_period(text: str | int, unit: str) -> int:
    """A period written as a panel's reports write it: ``"1993"`` (annual), ``"1993-07"`` (monthly), or the integer.

    Raises
    ------
    ValueError
        When ``text`` is neither, naming the form expected.
    """
    value = str(text).strip()
    if check_time_unit(unit) == "month" and len(value.split("-")) == 2 and value.split("-")[0].isdigit():
        year, month = value.split("-")
        if month.isdigit():
            return int(month_period(int(year), int(month)))
    try:
        return int(value)
    except ValueError:
        form = "a year such as 1988" if unit == "year" else "a month such as 1999-01 (or its period number)"
        kind = "an annual" if unit == "year" else "a monthly"
        raise ValueError(f"{text!r} is not a period of {kind} panel: give {form}") from None
