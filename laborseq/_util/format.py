"""The one formatter of an estimate with its interval, for tables, reports and printed results."""

from __future__ import annotations

import math


def format_interval(estimate: float, low: float, high: float, *, digits: int = 3, sign: bool = False) -> str:
    """``"2.814 [2.677, 2.957]"``: an estimate and its interval with ``digits`` decimals.

    Parameters
    ----------
    estimate, low, high : float
        The estimate and the interval's bounds; a non-finite bound prints the estimate alone.
    digits : int
        Decimals.
    sign : bool
        Always print the sign (for differences).

    Examples
    --------
    >>> format_interval(-0.0331, -0.058, -0.007, sign=True)
    '-0.033 [-0.058, -0.007]'
    """
    spec = f"{'+' if sign else ''}.{digits}f"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{estimate:{spec}}"
    return f"{estimate:{spec}} [{low:{spec}}, {high:{spec}}]"
