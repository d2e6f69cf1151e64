"""Figures of a panel's sequences: chronogram, sequence index plot and transversal entropy.

They draw what :mod:`laborseq.panel.descriptives` computes. States keep one
colour across the figures of a panel (:func:`state_colors`); a scheme with more
states than a reader can tell apart is drawn at a coarser grouping level, and
the figure says which (``level``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.axes
import matplotlib.colors
import matplotlib.figure
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd

from laborseq.panel.descriptives import IndexPlotData, StateDistribution
from laborseq.panel.periods import period_label, unit_name
from laborseq.report.document import Block, Figure, Paragraph, Report, Table
from laborseq.studies.sequences import SequenceDescription

AXIS_LABELS = {"age": "age", "position": "observation (1 = first)"}
"""x-axis label of the time axes other than the period (which is the panel's unit: year or month)."""


def axis_label(axis: str, time_unit: str) -> str:
    """The x-axis label of a time axis: the panel's unit for ``period``."""
    return unit_name(time_unit) if axis == "period" else AXIS_LABELS[axis]


def _period_ticks(ax: matplotlib.axes.Axes, axis: str, time_unit: str) -> None:
    """Whole-number ticks; a monthly period axis reads ``1993-07``."""
    if axis == "period" and time_unit == "month":  # ticks on Januaries (periods divisible by 12)
        low, high = ax.get_xlim()
        years = max(1, round((high - low) / 12 / 8))
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(12 * years))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: period_label(int(x), time_unit)))
    else:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))


MAX_TABLE_STATES = 20
"""Most states a transition-rate table shows (a larger table is in the descriptives, not the report)."""

LEGEND_CHARS = 38
"""Longest state label in a legend (longer ones are shortened with an ellipsis)."""


def state_colors(states: Sequence[str]) -> dict[str, str]:
    """One colour per state: ``tab10`` up to 10 states, ``tab20`` up to 20, then a spread of ``turbo``."""
    if len(states) <= 10:
        palette = matplotlib.colormaps["tab10"].colors
    elif len(states) <= 20:
        palette = matplotlib.colormaps["tab20"].colors
    else:
        palette = matplotlib.colormaps["turbo"](np.linspace(0.05, 0.95, len(states)))
    return {state: matplotlib.colors.to_hex(palette[i]) for i, state in enumerate(states)}


def _legend_label(state: str, titles: Mapping[str, str] | None) -> str:
    title = (titles or {}).get(state)
    label = f"{state} {title}" if title and title.lower() != state.lower() else (title or state)
    return label if len(label) <= LEGEND_CHARS else label[: LEGEND_CHARS - 1] + "…"


def _subtitle(weighted: bool, level: str | None) -> str:
    parts = ["survey-weighted" if weighted else "unweighted"]
    if level:
        parts.append(f"states grouped by {level}")
    return "; ".join(parts)


def chronogram(
    dist: StateDistribution,
    *,
    titles: Mapping[str, str] | None = None,
    level: str | None = None,
    name: str = "",
) -> matplotlib.figure.Figure:
    """Stacked bars of the state distribution at every time point (TraMineR's ``seqdplot``).

    Parameters
    ----------
    dist : StateDistribution
        :func:`~laborseq.panel.descriptives.state_distribution`.
    titles : mapping, optional
        Titles of the states, for the legend.
    level : str, optional
        The grouping level the states are drawn at, named in the title.
    name : str
        The panel's name, for the title.
    """
    shares = dist.shares
    colors = state_colors(list(shares.columns))
    fig = matplotlib.figure.Figure(figsize=(9.0, 4.6), layout="constrained")
    ax = fig.subplots()
    x = shares.index.to_numpy()
    bottom = np.zeros(len(x))
    for state in shares.columns:
        values = np.nan_to_num(shares[state].to_numpy(dtype=float))
        ax.bar(x, values, bottom=bottom, width=_bar_width(x), color=colors[state], label=_legend_label(state, titles))
        bottom += values
    _period_ticks(ax, dist.axis, dist.time_unit)
    ax.set_xlabel(axis_label(dist.axis, dist.time_unit))
    ax.set_ylabel("share of persons observed")
    ax.set_ylim(0, 1)
    ax.margins(x=0.01)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False, reverse=True)
    by = axis_label(dist.axis, dist.time_unit)
    fig.suptitle(f"State distribution by {by}{_of(name)} ({_subtitle(dist.weighted, level)})")
    return fig


def index_plot(
    data: IndexPlotData,
    *,
    titles: Mapping[str, str] | None = None,
    level: str | None = None,
    weighted: bool = False,
    name: str = "",
    sort: str = "first_state",
) -> matplotlib.figure.Figure:
    """Sequence index plot: one horizontal line per person, coloured by state, blank where not observed.

    Rows are in ``data``'s order (``sort`` names the rule, for the caption); with weights, each row is
    as tall as the person's weight, so areas read as population shares.
    """
    colors = state_colors(list(data.labels))
    cmap = matplotlib.colors.ListedColormap([colors[s] for s in data.labels])
    # every time point from the first to the last gets a column: one nobody is observed at stays blank
    time = np.arange(data.time.min(), data.time.max() + 1) if len(data.time) else data.time
    states = np.full((len(data.states), len(time)), -1)
    states[:, np.searchsorted(time, data.time)] = data.states
    grid = np.ma.masked_less(states, 0)
    fig = matplotlib.figure.Figure(figsize=(9.0, 5.2), layout="constrained")
    ax = fig.subplots()
    x_edges = np.r_[time - 0.5, time[-1:] + 0.5].astype(float) if len(time) else np.zeros(1)
    y_edges = np.r_[0.0, np.cumsum(data.heights, dtype=float)]
    # rasterized: thousands of rows as vector cells make an SVG of tens of megabytes
    ax.pcolormesh(
        x_edges, y_edges, grid, cmap=cmap, vmin=-0.5, vmax=len(data.labels) - 0.5, shading="flat", rasterized=True
    )
    ax.set_ylim(y_edges[-1], 0)
    _period_ticks(ax, data.axis, data.time_unit)
    ax.set_xlabel(axis_label(data.axis, data.time_unit))
    ax.set_ylabel("total weight of persons" if weighted else f"persons ({len(data.persons):,})")
    handles = [matplotlib.patches.Patch(color=colors[s], label=_legend_label(s, titles)) for s in data.labels]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.suptitle(f"Sequence index plot{_of(name)}, sorted by {sort.replace('_', ' ')} ({_subtitle(weighted, level)})")
    return fig


def entropy_figure(
    curves: Mapping[str, pd.Series],
    *,
    axis: str = "period",
    time_unit: str = "year",
    level: str | None = None,
    name: str = "",
) -> matplotlib.figure.Figure:
    """Transversal entropy over time, one line per curve (e.g. weighted and unweighted)."""
    fig = matplotlib.figure.Figure(figsize=(8.0, 3.8), layout="constrained")
    ax = fig.subplots()
    for label, curve in curves.items():
        ax.plot(curve.index.to_numpy(), curve.to_numpy(dtype=float), marker="o", markersize=3, label=label)
    _period_ticks(ax, axis, time_unit)
    ax.set_xlabel(axis_label(axis, time_unit))
    ax.set_ylabel("entropy / log(number of states)")
    ax.set_ylim(0, 1.02)
    ax.grid(color="#dddddd")
    if len(curves) > 1:
        ax.legend(frameon=False)
    note = f" (states grouped by {level})" if level else ""
    fig.suptitle(f"Transversal entropy by {axis_label(axis, time_unit)}{_of(name)}{note}")
    return fig


def _of(name: str) -> str:
    return f" of {name}" if name else ""


def _bar_width(x: np.ndarray) -> float:
    steps = np.diff(np.sort(x))
    return 0.9 * float(steps.min()) if len(steps) else 0.9


def sequence_blocks(desc: SequenceDescription) -> list[Block]:
    """The body of a report's sequence section: chronogram, index plot, entropy, time in states, transition rates."""
    dist = desc.distribution
    weighting = "survey-weighted" if desc.weighted else "unweighted"
    grouped = f" Its {len(desc.titles)} groups at level `{desc.level}` stand for the states." if desc.level else ""
    sample = (
        f" The index plot draws a random sample of {desc.index_sample:,} persons (seed 0)." if desc.index_sample else ""
    )
    axis = axis_label(dist.axis, dist.time_unit)
    blocks: list[Block] = [
        Paragraph(
            f"The careers before any model, {weighting}: the share of each state by {axis} (chronogram), every "
            f"person's sequence as one line (index plot, sorted by {desc.sort.replace('_', ' ')}"
            + ("; rows as tall as the survey weights" if desc.weighted else "")
            + "), and the transversal entropy (0: everyone observed in one state; 1: all states equally "
            f"common).{grouped}{sample}"
        ),
        Figure(
            chronogram(dist, titles=desc.titles, level=desc.level, name=desc.name),
            "chronogram",
            caption=f"State distribution by {axis} ({weighting}).",
        ),
        Figure(
            index_plot(
                desc.index, titles=desc.titles, level=desc.level, weighted=desc.weighted, name=desc.name, sort=desc.sort
            ),
            "index_plot",
            caption=f"Sequence index plot ({weighting}); blank where a person is not observed.",
        ),
        Figure(
            entropy_figure(desc.entropy, axis=dist.axis, time_unit=dist.time_unit, level=desc.level, name=desc.name),
            "entropy",
            caption=f"Transversal entropy by {axis}.",
        ),
    ]
    time = desc.time_in_state.assign(title=[desc.titles.get(s, s) for s in desc.time_in_state.index])
    time = time[["title", "mean_periods", "share"]].sort_values("mean_periods", ascending=False)
    blocks.append(
        Table(
            time.map(lambda v: f"{v:.3f}" if isinstance(v, float) else v),
            caption=f"Mean observed periods in each state per person ({weighting})",
        )
    )
    if len(desc.titles) <= MAX_TABLE_STATES:
        rates = desc.transitions.rates.map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
        blocks.append(
            Table(
                rates,
                caption=f"Transition rates between consecutive observations ({weighting}; rows: from, columns: to)",
            )
        )
    return blocks


def sequence_report(desc: SequenceDescription) -> Report:
    """A report of :func:`sequence_blocks` alone (``laborseq describe --plots``)."""
    report = Report(f"Sequences of {desc.name or 'a career panel'}")
    report.add(*sequence_blocks(desc))
    return report
