"""The contrasts of average marginal effects: which effects a fitted multinomial logit has.

A contrast names one effect: a level of a categorical feature against its reference
level, a 0/1 numeric feature switched from 0 to 1, or the derivative with respect to
a numeric feature. :mod:`laborseq.models.margins` computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from laborseq.models.features import EncodedFeatures

__all__ = ["HISTORY_DUMMIES", "Contrast", "contrasts"]

HISTORY_DUMMIES = ("previous_state", "second_previous", "calendar_year")
"""Features left out of the default effects: one level per state or year, they describe the history, not a covariate."""

Kind = Literal["level", "change", "dydx"]


@dataclass(frozen=True)
class Contrast:
    """One marginal effect's definition.

    Attributes
    ----------
    variable : str
        The feature (``education``, ``static:race``, ``years_in_state``, ``formula:x``).
    term : str
        Its design term, as the coefficient tables name it (``education[16]``, ``years_in_state``).
    kind : {"level", "change", "dydx"}
        A level against the reference level, a 0/1 numeric feature from 0 to 1, or a derivative.
    index : int
        The level's code (``"level"``) or the numeric column (``"change"``, ``"dydx"``).
    reference : str
        What the effect is measured against: the reference level, ``"0"``, or ``""`` for a derivative.
    """

    variable: str
    term: str
    kind: Kind
    index: int
    reference: str


def contrasts(
    x: EncodedFeatures, variables: Sequence[str] | None = None, *, binary: Literal["change", "dydx"] = "change"
) -> list[Contrast]:
    """The contrasts of the features in ``x``: every non-reference level, every numeric column.

    Parameters
    ----------
    x : EncodedFeatures
        Encoded transitions (their levels and numeric columns define the contrasts).
    variables : sequence of str, optional
        Features to keep (names as in ``x``: ``education``, ``static:race``,
        ``years_in_state``, ``formula:age``; ``"static"`` keeps every static covariate).
        By default every feature but :data:`HISTORY_DUMMIES`.
    binary : {"change", "dydx"}
        Numeric columns whose values are all 0 or 1 (``gap``, ``education_change``, a
        formula dummy): the discrete change from 0 to 1 (default) or the derivative.

    Returns
    -------
    list of Contrast
        In design order: categorical features, then numeric columns.

    Raises
    ------
    ValueError
        When a variable asked for is not a feature of ``x``.
    """
    features = [*x.levels, *x.numeric_names]
    if variables is None:
        keep = [f for f in features if f not in HISTORY_DUMMIES]
    else:
        asked = list(variables)
        keep = [f for f in features if f in asked or ("static" in asked and f.startswith("static:"))]
        unknown = [v for v in asked if v != "static" and v not in features]
        if unknown:
            raise ValueError(f"no feature {unknown} in the model; its features are {features}")
    out: list[Contrast] = []
    for name, levels in x.levels.items():
        if name in keep:
            out += [Contrast(name, f"{name}[{lvl}]", "level", i, levels[0]) for i, lvl in enumerate(levels) if i]
    for column, name in enumerate(x.numeric_names):
        if name not in keep:
            continue
        values = x.numeric[:, column]
        is_binary = binary == "change" and bool(np.isin(values, (0.0, 1.0)).all())
        out.append(Contrast(name, name, "change" if is_binary else "dydx", column, "0" if is_binary else ""))
    return out
