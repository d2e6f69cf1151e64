"""Figures of model comparisons (matplotlib, readable in print)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.figure
import numpy as np

from laborseq.evaluate import ComparisonResult


def perplexity_intervals(result: ComparisonResult) -> matplotlib.figure.Figure:
    """Dot-and-interval plot of test perplexity per model, all person-years and transitions only."""
    table = result.table().sort_values("perplexity", ascending=False)
    names = list(table.index)
    y = np.arange(len(names))
    fig = matplotlib.figure.Figure(figsize=(8.0, 1.2 + 0.45 * len(names)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    panels = (
        ("All person-years", "perplexity", "ci_low", "ci_high"),
        (
            "Transitions only (first year excluded)",
            "perplexity_transitions",
            "transitions_ci_low",
            "transitions_ci_high",
        ),
    )
    for ax, (title, col, lo, hi) in zip(axes, panels, strict=True):
        centre = table[col].to_numpy()
        err = np.vstack([centre - table[lo].to_numpy(), table[hi].to_numpy() - centre])
        ax.errorbar(centre, y, xerr=err, fmt="o", color="#1f4e79", ecolor="#1f4e79", capsize=4, markersize=6)
        for yi, value in zip(y, centre, strict=True):
            ax.annotate(f"{value:.3f}", (value, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("test perplexity (lower is better)")
        ax.grid(axis="x", color="#dddddd")
        ax.set_ylim(-0.7, len(names) - 0.3)
    axes[0].set_yticks(y, names)
    pct = round(100 * result.level)
    fig.suptitle(f"Held-out perplexity with {pct}% person-bootstrap intervals", fontsize=11)
    return fig
