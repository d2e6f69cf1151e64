"""The one conversion of numpy and pandas values to plain JSON-ready Python."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(obj: Any) -> Any:
    """``obj`` with numpy and pandas values made plain Python, recursively.

    Mappings become dicts with string keys; lists, tuples and arrays become
    lists; numpy scalars become Python scalars; floating NaN becomes ``None``
    (JSON has no NaN); paths become strings. Anything else is returned as is.

    Examples
    --------
    >>> to_jsonable({"a": np.int64(2), "b": (np.float32(0.5), float("nan"))})
    {'a': 2, 'b': [0.5, None]}
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, PurePath):
        return str(obj)
    return obj


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (for readable messages); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def json_records(frame: pd.DataFrame, *, index: bool = True) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts (:func:`to_jsonable` values, string keys), its index as columns unless
    ``index=False``."""
    return [to_jsonable(row) for row in (frame.reset_index() if index else frame).to_dict("records")]
