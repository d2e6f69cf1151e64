"""Calendar days as integers: day 0 is 1970-01-01, as numpy's ``datetime64[D]`` counts them."""

from __future__ import annotations

import numpy as np


def year_start(year: np.ndarray) -> np.ndarray:
    """Day number of 1 January of each ``year``."""
    return (np.asarray(year).astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
