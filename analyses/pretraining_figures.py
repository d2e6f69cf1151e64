"""Figures of ``career_pretraining.py``: ratios to the oracle with intervals, and the training curves.

Both are :class:`matplotlib.figure.Figure` objects built without pyplot, for
:class:`laborseq.report.document.Figure` blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.axes
import matplotlib.figure
import matplotlib.ticker
import numpy as np
import pandas as pd
from pretraining_study import ORACLE

BLUE, GREY, ORANGE = "#1f4e79", "#7f7f7f", "#c55a11"

SHORT_LABELS = {
    "career_pretrained_finetuned": "CAREER, pretrained + fine-tuned",
    "career_pretrained_only": "CAREER, pretrained only",
    "career_survey_only": "CAREER, survey only",
    "markov1": "Markov chain, order 1",
    "markov2": "Markov chain, order 2",
    "mnlogit": "Multinomial logit",
}
"""Model names on the figures' axes."""


def ratio_figure(table: pd.DataFrame) -> matplotlib.figure.Figure:
    """Dot-and-whisker plot of every model's perplexity ratio to the oracle (all years, transitions only).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`pretraining_study.ratio_table`; the oracle's row is drawn as the dashed line at 1.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the model axis, best model at the top.
    """
    rows = table.drop(index=ORACLE).sort_values("ratio_all", ascending=False)
    y = np.arange(len(rows))
    fig = matplotlib.figure.Figure(figsize=(9.0, 1.6 + 0.5 * len(rows)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    panels = (("All person-years", "ratio_all"), ("Transitions only (first year excluded)", "ratio_transitions"))
    for ax, (title, column) in zip(axes, panels, strict=True):
        centre = rows[column].to_numpy(dtype=float)
        low = np.array([ci[0] for ci in rows[f"{column}_ci"]])
        high = np.array([ci[1] for ci in rows[f"{column}_ci"]])
        ax.axvline(1.0, color=GREY, linestyle="--", linewidth=1)
        ax.errorbar(centre, y, xerr=[centre - low, high - centre], fmt="o", color=BLUE, capsize=4, markersize=6)
        for yi, value, right in zip(y, centre, high, strict=True):
            ax.annotate(f"{value:.3f}", (right, yi), textcoords="offset points", xytext=(6, 0), va="center", fontsize=8)
        _ratio_axis(ax, min(1.0, low.min()), high.max())
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("test perplexity / oracle perplexity, log scale\n(1 = oracle, dashed; lower is better)")
    axes[0].set_yticks(y, [SHORT_LABELS.get(name, name) for name in rows.index])
    fig.suptitle("Perplexity relative to the true process, with 95% person-bootstrap intervals", fontsize=11)
    return fig


RATIO_TICKS = (0.95, 1, 1.02, 1.05, 1.1, 1.2, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
"""Candidate ticks of the ratio axis."""


def _ratio_axis(ax: matplotlib.axes.Axes, low: float, high: float) -> None:
    """Log-scaled ratio axis from ``low`` to ``high``, with room for the labels and plainly written ticks."""
    span = max(np.log(high / low), np.log(1.05))
    left, right = low * np.exp(-0.04 * span), high * np.exp(0.3 * span)
    ax.set_xscale("log")
    ax.set_xlim(left, right)
    gap = 0.12 * np.log(right / left)  # ticks at least 12% of the axis apart, 1 always among them
    ticks = [1.0]
    for tick in sorted(RATIO_TICKS, key=lambda t: abs(np.log(t))):
        if left <= tick <= right and all(abs(np.log(tick / kept)) >= gap for kept in ticks):
            ticks.append(tick)
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(sorted(ticks)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.grid(axis="x", color="#dddddd")


def _loss_curve(history: Sequence[Mapping[str, Any]], start: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tokens seen and validation loss of a training history (``start``: the loss at 0 tokens)."""
    points = [(h["tokens"], h["valid_loss"]) for h in history if h.get("valid_loss") is not None]
    if start is not None:
        points.insert(0, (0, start))
    tokens, losses = zip(*points, strict=True) if points else ((), ())
    return np.asarray(tokens, dtype=float), np.asarray(losses, dtype=float)


def _token_axis(ax: matplotlib.axes.Axes, largest: float, stage_name: str) -> float:
    """Label the x axis in thousands or millions of tokens; returns the divisor."""
    scale, unit = (1e6, "millions") if largest >= 1e6 else (1e3, "thousands")
    ax.set_xlabel(f"person-years (tokens) seen in {stage_name}, {unit}")
    return scale


def loss_figure(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    references: Mapping[str, float],
    n_resume_valid: int,
    n_survey_valid: int,
) -> matplotlib.figure.Figure | None:
    """Validation loss against tokens seen: pretraining (resumes), then fine-tuning next to survey-only training.

    Parameters
    ----------
    histories : mapping
        ``pretrain``, ``finetune`` and ``survey_only``: :attr:`TrainResult.history` lists.
    references : mapping of str to float
        :func:`pretraining_study.reference_losses`.
    n_resume_valid, n_survey_valid : int
        Held-out resumes and survey validation persons (for the titles).

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no history holds a validation loss.
    """
    pretrain_curve = _loss_curve(histories["pretrain"])
    tuned = _loss_curve(histories["finetune"], start=references["pretrained_survey_valid"])
    scratch = _loss_curve(histories["survey_only"])
    if not any(len(curve[0]) for curve in (pretrain_curve, tuned, scratch)):
        return None
    fig = matplotlib.figure.Figure(figsize=(9.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    scale = _token_axis(left, pretrain_curve[0].max(initial=0), "pretraining")
    left.plot(pretrain_curve[0] / scale, pretrain_curve[1], marker="o", markersize=4, color=BLUE, label="CAREER")
    left.axhline(references["oracle_resume_valid"], color=GREY, linestyle="--", linewidth=1, label="oracle")
    left.set_title(f"Pretraining: {n_resume_valid:,} held-out resumes", fontsize=10)
    scale = _token_axis(right, max(tuned[0].max(initial=0), scratch[0].max(initial=0)), "survey training")
    right.plot(tuned[0] / scale, tuned[1], marker="o", markersize=3, color=BLUE, label="pretrained, fine-tuned")
    right.plot(scratch[0] / scale, scratch[1], marker="s", markersize=3, color=ORANGE, label="survey only")
    right.axhline(references["oracle_survey_valid"], color=GREY, linestyle="--", linewidth=1, label="oracle")
    right.set_title(f"Survey training: {n_survey_valid:,} validation persons", fontsize=10)
    for ax in (left, right):
        ax.set_ylabel("validation loss (nats per person-year)")
        ax.grid(color="#dddddd")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False, fontsize=9)
    return fig
