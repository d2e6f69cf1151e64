"""Figures of model comparisons (matplotlib, readable in print).

Every figure is a :class:`matplotlib.figure.Figure` built without pyplot (no
global state), with labelled axes and a legend where lines need one. Models
keep one colour across figures (:func:`model_colors`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.colors
import matplotlib.figure
import numpy as np
import pandas as pd

OFF_SCALE = 1.6
"""In the perplexity plot, models worse than this multiple of the best are drawn at the edge, labelled."""

LABEL_CHARS = 20
"""Longest group label on heatmap axes (longer ones are shortened with an ellipsis)."""


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """One colour per model (matplotlib's ``tab10`` cycle, in the given order)."""
    cycle = matplotlib.colormaps["tab10"].colors
    return {name: matplotlib.colors.to_hex(cycle[i % len(cycle)]) for i, name in enumerate(models)}


def perplexity_intervals(table: pd.DataFrame, level: float) -> matplotlib.figure.Figure:
    """Dot-and-interval plot of test perplexity per model, all person-years and transitions only.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`~laborseq.evaluation.comparison.ComparisonResult.headline`: one row per model
        with ``perplexity``, ``low``, ``high`` and ``transitions``,
        ``transitions_low``, ``transitions_high``.
    level : float
        Coverage of the intervals (for the title).
    """
    table = table.sort_values("perplexity", ascending=False)
    names = list(table.index)
    y = np.arange(len(names))
    fig = matplotlib.figure.Figure(figsize=(8.0, 1.4 + 0.42 * len(names)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    panels = (
        ("All person-years", "perplexity", "low", "high"),
        ("Transitions only (first year excluded)", "transitions", "transitions_low", "transitions_high"),
    )
    for ax, (title, col, lo, hi) in zip(axes, panels, strict=True):
        centre, low, high = (table[c].to_numpy(dtype=float) for c in (col, lo, hi))
        limit = OFF_SCALE * np.nanmin(centre)
        inside = centre <= limit
        right = float(np.nanmax(np.where(inside, high, np.nan))) if inside.any() else float(np.nanmax(high))
        left = float(np.nanmin(np.where(inside, low, np.nan))) if inside.any() else float(np.nanmin(low))
        pad = 0.08 * (right - left or 1.0)
        edge = right + pad
        for yi, c, lo_, hi_, ok in zip(y, centre, low, high, inside, strict=True):
            if ok:
                ax.errorbar(c, yi, xerr=[[c - lo_], [hi_ - c]], fmt="o", color="#1f4e79", capsize=4, markersize=6)
                ax.annotate(f"{c:.3f}", (c, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
            else:
                ax.plot([edge], [yi], marker=">", color="#8c2d04", markersize=8)
                label = f"{c:.2f} (off scale)"
                ax.annotate(label, (edge, yi), textcoords="offset points", xytext=(-8, 7), ha="right", fontsize=8)
        ax.set_xlim(left - pad, edge + pad)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("test perplexity (lower is better)")
        ax.grid(axis="x", color="#dddddd")
        ax.set_ylim(-0.7, len(names) - 0.3)
    axes[0].set_yticks(y, names)
    fig.suptitle(f"Held-out perplexity with {round(100 * level)}% person-bootstrap intervals", fontsize=11)
    return fig


def breakdown_figure(
    frame: pd.DataFrame, *, xlabel: str, title: str, colors: Mapping[str, str], ordered: bool = True
) -> matplotlib.figure.Figure:
    """Perplexity by group, one series per model with interval bars.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`laborseq.evaluation.breakdowns.perplexity_by` output.
    xlabel, title : str
        Axis label of the groups and figure title.
    colors : mapping
        Colour of every model.
    ordered : bool
        Groups have an order (positions, years): points are joined by lines.
    """
    groups = list(dict.fromkeys(frame["group"]))
    models = list(dict.fromkeys(frame["model"]))
    x = np.arange(len(groups))
    width = min(0.8, 0.12 * len(models))
    offsets = np.linspace(-width / 2, width / 2, len(models)) if len(models) > 1 else np.zeros(1)
    fig = matplotlib.figure.Figure(figsize=(max(6.4, 0.55 * len(groups) + 3.0), 4.0), layout="constrained")
    ax = fig.add_subplot()
    for offset, name in zip(offsets, models, strict=True):
        rows = frame[frame["model"] == name].set_index("group").reindex(groups)
        centre = rows["perplexity"].to_numpy(dtype=float)
        err = np.vstack([centre - rows["low"].to_numpy(dtype=float), rows["high"].to_numpy(dtype=float) - centre])
        ax.errorbar(
            x + offset,
            centre,
            yerr=err,
            fmt="o-" if ordered else "o",
            color=colors[name],
            label=name,
            markersize=4,
            capsize=2,
            linewidth=1.2,
            elinewidth=0.8,
        )
    ax.set_xticks(x, groups, rotation=45 if len(groups) > 8 or max(map(len, groups)) > 6 else 0, ha="right")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test perplexity (lower is better)")
    ax.set_title(title, fontsize=11)
    ax.grid(axis="y", color="#dddddd")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def reliability_figure(
    stay: pd.DataFrame, top: pd.DataFrame, *, colors: Mapping[str, str], min_targets: int = 20
) -> matplotlib.figure.Figure:
    """Reliability diagrams: predicted stay probability and top-state probability against observed frequency.

    Parameters
    ----------
    stay, top : pandas.DataFrame
        :func:`laborseq.evaluation.breakdowns.reliability` with ``kind="stay"`` and ``kind="top"``.
    colors : mapping
        Colour of every model.
    min_targets : int
        Bins with fewer person-years are not drawn (their frequencies are noise).
    """
    n_legend_rows = -(-(len(colors) + 1) // 4)
    fig = matplotlib.figure.Figure(figsize=(9.0, 4.6 + 0.25 * n_legend_rows), layout="constrained")
    axes = fig.subplots(1, 2)
    panels = (
        (stay, "Staying in the previous state", "predicted probability of staying", "observed share that stayed"),
        (top, "Most likely state", "predicted probability of the top state", "observed share where it was right"),
    )
    for ax, (frame, title, xlabel, ylabel) in zip(axes, panels, strict=True):
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfect calibration")
        for name, rows in frame.groupby("model", sort=False):
            rows = rows[rows["n_targets"] >= min_targets]
            color = colors[str(name)]
            ax.plot(rows["predicted"], rows["observed"], marker="o", markersize=3.5, color=color, label=name)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(color="#eeeeee")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, frameon=False, fontsize=8)
    fig.suptitle("Calibration on test person-years (equal-width bins of predicted probability)", fontsize=11)
    return fig


def transition_heatmaps(rates: Mapping[str, pd.DataFrame], models: Sequence[str]) -> matplotlib.figure.Figure:
    """Observed transition rates between groups, and each model's predicted minus observed rates.

    Parameters
    ----------
    rates : mapping
        :func:`laborseq.evaluation.breakdowns.transition_rates` (``"observed"`` and models).
    models : sequence of str
        Models to show next to the observed rates (one panel each).
    """
    observed = rates["observed"]
    n_panels = 1 + len(models)
    side = 0.28 * len(observed.columns) + 3.2
    fig = matplotlib.figure.Figure(figsize=(side + 3.4, side * n_panels * 0.92), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_panels, 1))
    ticks = _tick_labels(list(observed.columns))
    cols = [ticks[label] for label in observed.columns]
    rows = [label if ticks[label] in label.split()[:1] else f"{ticks[label]} {label}" for label in observed.index]
    rows = [_short(label) for label in rows]
    image = axes[0].imshow(observed.to_numpy(), cmap="Blues", norm=matplotlib.colors.PowerNorm(0.5, 0, 1))
    fig.colorbar(image, ax=axes[0], shrink=0.8, label="observed rate")
    axes[0].set_title("Observed transition rates", fontsize=11)
    diffs = [rates[m].reindex_like(observed).to_numpy() - observed.to_numpy() for m in models]
    bound = max([float(np.nanmax(np.abs(d))) for d in diffs] + [0.01])
    for ax, name, diff in zip(axes[1:], models, diffs, strict=True):
        image = ax.imshow(diff, cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax.set_title(f"{name}: predicted minus observed rate", fontsize=11)
        fig.colorbar(image, ax=ax, shrink=0.8, label="difference in rate")
    for ax in axes:
        ax.set_xticks(np.arange(len(cols)), cols, fontsize=9, rotation=90 if max(map(len, cols)) > 3 else 0)
        ax.set_xlabel("to (next observed state)")
        ax.set_yticks(np.arange(len(rows)), rows, fontsize=9)
        ax.set_ylabel("from (previous observed state)")
    return fig


def _tick_labels(labels: list[str]) -> dict[str, str]:
    """Short tick of every group label: its leading code when it has one (``"13 Other"``), else its number."""
    out = {}
    for i, label in enumerate(labels):
        head = label.split()[0] if label.split() else ""
        out[label] = head if head and len(head) <= 5 and any(c.isdigit() for c in head) else str(i + 1)
    return out


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
