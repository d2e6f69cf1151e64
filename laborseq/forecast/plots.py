"""Fan charts of projected state shares (matplotlib, readable in print).

Figures are :class:`matplotlib.figure.Figure` objects built without pyplot, so
drawing one never selects or changes the user's matplotlib backend; save them
with ``fig.savefig(...)``. :meth:`ForecastResult.plot
<laborseq.forecast.result.ForecastResult.plot>` draws the same chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from laborseq.panel import YEAR

if TYPE_CHECKING:
    from laborseq.forecast.result import ForecastResult
    from laborseq.panel import CareerPanel

_COLORS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021", "#7f7f7f", "#00827f", "#e377c2")
_TITLE_CHARS = 38


def fan_chart(
    result: ForecastResult,
    observed: CareerPanel | None = None,
    *,
    states: Sequence[str] | None = None,
    top: int = 6,
    by: str | None = None,
    coarsen: str | None = None,
    level: float = 0.9,
    ax: Axes | None = None,
) -> Figure:
    """Projected shares of the main states over the forecast years, with simulation bands.

    Parameters
    ----------
    result : ForecastResult
        The forecast.
    observed : CareerPanel, optional
        Observed careers; their shares in the forecast years (for the forecast
        persons, see :meth:`ForecastResult.observed_shares`) are drawn as crosses.
    states : sequence of str, optional
        States (or groups, with ``coarsen``) to draw; by default the ``top`` most
        common last states at the origin.
    top : int
        How many states to draw when ``states`` is not given.
    by : str, optional
        A column of ``result.groups``: one panel per value (with ``ax`` not given).
    coarsen : str, optional
        Grouping level of the scheme to aggregate states to first.
    level : float
        Coverage of the simulation band.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (only without ``by``); its figure is returned.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Each state gets one line: its share at the origin (the persons' last
    observed states, at or before the origin, marked with a dot), then the
    expected share (mean p̄) in every forecast year. The band is the simulation
    interval of :meth:`ForecastResult.shares` (absent without sampled paths).
    With ``observed``, each state also gets one line of cross markers.
    """
    if top < 1 and states is None:
        raise ValueError(f"fan_chart: top must be >= 1, got {top}")
    start_all = result.origin_shares(coarsen=coarsen)
    if states is None:
        chosen = list(start_all.sort_values("share", ascending=False, kind="stable")["state"].astype(str)[:top])
    else:
        chosen = [str(s) for s in states]
        known = set(start_all["state"].astype(str))
        unknown = [s for s in chosen if s not in known]
        if unknown:
            raise ValueError(f"fan_chart: state(s) {unknown} are not states of the forecast (coarsen={coarsen!r})")
    projected = result.shares(by=by, level=level, coarsen=coarsen)
    start = result.origin_shares(by=by, coarsen=coarsen)
    seen = None if observed is None else result.observed_shares(observed, by=by, coarsen=coarsen)

    panels = [None] if by is None else list(projected[by].drop_duplicates())
    if ax is not None and len(panels) > 1:
        raise ValueError("fan_chart: pass ax only without by= (by draws one panel per group)")
    if ax is None:
        ncols = min(3, len(panels))
        nrows = math.ceil(len(panels) / ncols)
        fig = Figure(figsize=(3.0 + 4.6 * ncols, 0.8 + 3.3 * nrows), layout="constrained")
        axes = list(fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel())
        for extra in axes[len(panels) :]:
            extra.set_visible(False)
    else:
        fig = ax.figure
        axes = [ax]

    xs = [result.origin, *(int(y) for y in result.years)]
    for axis, value in zip(axes, panels, strict=False):
        for i, state in enumerate(chosen):
            color = _COLORS[i % len(_COLORS)]
            proj = _select(projected, by, value, state)
            y0 = _select(start, by, value, state)["share"].to_numpy()
            line = np.r_[y0, proj["share"].to_numpy()]
            axis.plot(xs, line, color=color, marker="o", markevery=[0], linewidth=1.8, label=_label(result, state))
            low, high = proj["low"].to_numpy(), proj["high"].to_numpy()
            if np.isfinite(low).any():
                axis.fill_between(proj[YEAR].to_numpy(), low, high, color=color, alpha=0.18, linewidth=0)
            if seen is not None:
                obs = _select(seen, by, value, state)
                axis.plot(obs[YEAR].to_numpy(), obs["share"].to_numpy(), linestyle="none", marker="x", color=color)
        axis.set_xticks(xs)
        axis.set_xlabel("year")
        axis.grid(axis="y", color="#dddddd")
        if value is not None:
            axis.set_title(f"{by} = {value}", fontsize=10)
    for axis in axes[: len(panels)]:
        axis.set_ylim(bottom=0)  # after all panels are drawn, so that shared limits cover every panel
    axes[0].set_ylabel("share of persons")

    handles, labels = axes[0].get_legend_handles_labels()
    if seen is not None:
        handles.append(Line2D([], [], linestyle="none", marker="x", color="black"))
        labels.append("observed")
    if ax is None:
        fig.legend(handles, labels, fontsize=8, loc="outside right center")
    else:
        ax.legend(handles, labels, fontsize=8, loc="best")
    band = f"; bands: {round(100 * level)}% simulation intervals" if result.paths is not None else ""
    title = f"Projected shares, {result.model or 'forecast'} (origin {result.origin}{band})"
    if ax is None:
        fig.suptitle(title, fontsize=11)
    else:
        ax.set_title(title, fontsize=10)
    return fig


def _select(table: pd.DataFrame, by: str | None, value: object, state: str) -> pd.DataFrame:
    """Rows of a shares table for one group value and state, in year order."""
    mask = (table["state"].astype(str) == state).to_numpy().copy()
    if by is not None:
        mask &= (table[by] == value).to_numpy()
    return table[mask].sort_values(YEAR)


def _label(result: ForecastResult, state: str) -> str:
    """Legend label: the state's title when the scheme has one (truncated)."""
    title = result.scheme.title(state) if state in result.scheme else state
    text = state if title == state else f"{state} {title}"
    return text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 1] + "…"
