"""Survey weights of a panel's rows, given as the panel's column, an array or a Series by person."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from laborseq.panel.columns import PERSON

if TYPE_CHECKING:
    from laborseq.panel.core import CareerPanel

WeightsLike = str | np.ndarray | pd.Series | None
"""How callers name weights: ``None`` (unweighted), ``"weight"`` (the panel's column), one value per row,
or a Series indexed by person key."""


def resolve_weights(panel: CareerPanel, weights: WeightsLike) -> np.ndarray | None:
    """One non-negative weight per row of ``panel`` (``None`` for unweighted).

    Parameters
    ----------
    panel : CareerPanel
        The panel the weights refer to.
    weights : None, "weight", array or Series
        ``"weight"``: the panel's survey weights. Array: one weight per row.
        Series: weights indexed by person key (every person must be present).
    """
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights != "weight" or not panel.has_weight:
            raise ValueError(
                f"weights={weights!r}: the panel has {'a' if panel.has_weight else 'no'} survey-weight "
                "column; pass weights='weight' to use it, or an array / person Series"
            )
        out = panel.weights
    elif isinstance(weights, pd.Series):
        persons = panel.data[PERSON]
        missing = pd.Index(persons.unique()).difference(weights.index)
        if len(missing):
            raise ValueError(f"person weights are missing for {len(missing)} person(s), e.g. {list(missing[:5])}")
        out = weights.reindex(persons).to_numpy(dtype=float)
    else:
        out = np.asarray(weights, dtype=float)
        if out.shape != (len(panel),):
            raise ValueError(f"weights must have one value per panel row ({len(panel)}), got shape {out.shape}")
    if not np.all(np.isfinite(out)) or (out < 0).any():
        raise ValueError("weights must be finite and non-negative")
    return out
