"""Projected state shares of a forecast: expected shares, simulation intervals and the starting shares.

The functions here compute the tables behind
:meth:`~laborseq.forecast.result.ForecastResult.shares` and
:meth:`~laborseq.forecast.result.ForecastResult.origin_shares`, and the helpers
every share table uses (coarsening states, grouping persons, laying a
``(groups, years, states)`` array out as a long table), which
:mod:`laborseq.forecast.scoring` uses for the observed shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq.panel import YEAR

if TYPE_CHECKING:
    from laborseq.forecast.result import ForecastResult


def projected_shares(result: ForecastResult, by: str | None, level: float, coarsen: str | None) -> pd.DataFrame:
    """Expected share and simulation interval of every state, year (and group); see :meth:`ForecastResult.shares`."""
    if not 0 < level < 1:
        raise ValueError(f"shares: level must lie strictly between 0 and 1, got {level}")
    labels, col_map = state_map(result, coarsen)
    values, codes = group_codes(result, by)
    b, g, (p, h, _) = len(values), len(labels), result.probabilities.shape
    member = np.zeros((p, b))
    member[codes >= 0, codes[codes >= 0]] = 1.0
    n = member.sum(axis=0)
    probs = _coarse_probabilities(result, col_map, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (member.T @ probs.reshape(p, h * g)).reshape(b, h, g) / n[:, None, None]
    low = np.full((b, h, g), np.nan)
    high = np.full((b, h, g), np.nan)
    if result.paths is not None:
        s = result.n_samples
        keep = codes >= 0
        alpha = (1 - level) / 2
        base = (codes[keep, None].astype(np.int64) * s + np.arange(s)[None, :]) * g
        for j in range(h):
            flat = base + col_map[result.paths[keep, :, j]]
            counts = np.bincount(flat.reshape(-1), minlength=b * s * g).reshape(b, s, g)
            with np.errstate(invalid="ignore", divide="ignore"):
                low[:, j], high[:, j] = np.quantile(counts / n[:, None, None], [alpha, 1 - alpha], axis=1)
    return long_table(result, by, values, labels, {"share": share, "low": low, "high": high})


def origin_shares(result: ForecastResult, by: str | None, coarsen: str | None) -> pd.DataFrame:
    """Shares of the persons' last observed states; see :meth:`ForecastResult.origin_shares`."""
    labels, col_map = state_map(result, coarsen)
    values, codes = group_codes(result, by)
    keep = codes >= 0
    b, g = len(values), len(labels)
    counts = np.bincount(codes[keep] * g + col_map[result.last_state[keep]], minlength=b * g).reshape(b, 1, g)
    n = np.bincount(codes[keep], minlength=b).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts / n[:, None, None]
    n_col = np.broadcast_to(n[:, None, None], share.shape)
    return long_table(result, by, values, labels, {"share": share, "n": n_col}, years=np.array([result.origin]))


# ---------------------------------------------------------------------- helpers of every share table
def state_map(result: ForecastResult, coarsen: str | None) -> tuple[list[str], np.ndarray]:
    """Labels of the (possibly coarsened) states and the label index of every class."""
    if coarsen is None:
        return list(result.classes), np.arange(len(result.classes))
    mapping = result.scheme.coarsen_map(coarsen)
    labels = list(result.scheme.coarsen(coarsen).states)
    position = {label: i for i, label in enumerate(labels)}
    return labels, np.array([position[mapping[c]] for c in result.classes], dtype=np.int64)


def group_codes(result: ForecastResult, by: str | None) -> tuple[list[Any], np.ndarray]:
    """Values of ``by`` (sorted) and each person's position among them (-1 when missing)."""
    if by is None:
        return [None], np.zeros(result.n_persons, dtype=np.int64)
    if by not in result.groups.columns:
        raise KeyError(f"by={by!r} is not a column of the forecast's groups; they are {list(result.groups.columns)}")
    codes, uniques = pd.factorize(result.groups[by], sort=True)
    return list(uniques), codes.astype(np.int64)


def long_table(
    result: ForecastResult,
    by: str | None,
    values: list[Any],
    labels: list[str],
    columns: dict[str, np.ndarray],
    years: np.ndarray | None = None,
) -> pd.DataFrame:
    """A ``(B, H, G)`` set of arrays as a long table ``[by,] year, state, <columns>``.

    ``years`` defaults to the forecast years; ``by`` values keep the dtype of
    the groups column (categoricals stay categorical).
    """
    years = result.years if years is None else years
    b, h, g = len(values), len(years), len(labels)
    out: dict[str, Any] = {}
    if by is not None:
        group = pd.Series(values).take(np.repeat(np.arange(b), h * g)).reset_index(drop=True)
        if isinstance(result.groups[by].dtype, pd.CategoricalDtype):
            group = group.astype(result.groups[by].dtype)
        out[by] = group
    out[YEAR] = np.tile(np.repeat(np.asarray(years, dtype=np.int64), g), b)
    out["state"] = pd.Categorical.from_codes(np.tile(np.arange(g), b * h), categories=labels)
    for name, array in columns.items():
        out[name] = np.asarray(array, dtype=np.float64).reshape(-1)
    frame = pd.DataFrame(out)
    if "n" in frame:
        frame["n"] = frame["n"].astype(np.int64)
    return frame


def _coarse_probabilities(result: ForecastResult, col_map: np.ndarray, g: int) -> np.ndarray:
    """p̄ summed over the classes of each coarse state, shape ``(P, H, G)``, float64."""
    probs = result.probabilities.astype(np.float64, copy=False)
    k = len(result.classes)
    if g == k and (col_map == np.arange(g)).all():
        return probs
    onehot = np.zeros((k, g))
    onehot[np.arange(k), col_map] = 1.0
    return probs @ onehot
