"""Distinct rows of integer columns: the grouping that steppers and aggregated fits share."""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_rows"]


def distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Index of one row per distinct combination of the non-negative integer ``columns`` (in the order of the
    combinations), and each row's combination number.

    The columns are packed into one int64 key where their ranges allow (one sort), else compared as rows.
    """
    cols = [np.asarray(c, dtype=np.int64) for c in columns]
    key = np.zeros(len(cols[0]), dtype=np.int64)
    radix = 1
    for c in cols:
        span = int(c.max()) + 1 if len(c) else 1
        radix *= span
        if radix >= 2**62:
            _, first, inverse = np.unique(np.column_stack(cols), axis=0, return_index=True, return_inverse=True)
            return first, inverse.reshape(-1)
        key = key * span + c
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)
