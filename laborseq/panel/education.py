"""Helpers shared by the bundled-panel loaders."""

from __future__ import annotations

import numpy as np
import pandas as pd

EDUCATION_LEVELS: tuple[str, ...] = (
    "less_than_high_school",
    "high_school",
    "some_college",
    "bachelors",
    "postgraduate",
)
"""Ordered education categories derived from years of schooling."""


def education_from_years(years: pd.Series) -> pd.Series:
    """Map completed years of schooling to :data:`EDUCATION_LEVELS`.

    Fewer than 12 years: ``less_than_high_school``; 12: ``high_school``; 13-15:
    ``some_college``; 16: ``bachelors``; 17 or more: ``postgraduate``. Missing
    stays missing.
    """
    bins = [-np.inf, 11.5, 12.5, 15.5, 16.5, np.inf]
    return pd.cut(years, bins=bins, labels=list(EDUCATION_LEVELS), ordered=True)
