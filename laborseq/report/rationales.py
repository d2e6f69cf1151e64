"""Report blocks of a rationale study (:class:`~laborseq.studies.rationale_study.RationaleStudy`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.figure
import numpy as np
import pandas as pd

from laborseq._util.io import write_json_atomic
from laborseq.report.document import Block, Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.studies.rationale_study import RationaleStudy
from laborseq.studies.rationales import Rationale

N_EXAMPLES = 3
"""Example rationales shown: the held-out moves with the longest rationales that reach the top."""

_COLUMNS = {
    "n": ("predictions", "{:.0f}"),
    "mean_size": ("mean size", "{:.2f}"),
    "median_size": ("median size", "{:.0f}"),
    "mean_positions": ("positions available", "{:.2f}"),
    "share_reached": ("reach the top 2", "{:.0%}"),
    "share_top1": ("end at rank 1", "{:.0%}"),
    "share_top2_full": ("top 2 with the whole career", "{:.0%}"),
    "perplexity_recent": ("perplexity, most recent job only", "{:.2f}"),
    "perplexity_full": ("perplexity, whole career", "{:.2f}"),
    "mean_seconds": ("ms per rationale", "{:.1f}"),
}


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Output of :func:`~laborseq.studies.rationales.summarize_rationales`, one row per figure, a column per group."""
    rows = {}
    for column, (label, fmt) in _COLUMNS.items():
        values = summary[column] * (1000 if column == "mean_seconds" else 1)
        rows[label] = {group: fmt.format(v) for group, v in values.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("")


def contrast_table(study: RationaleStudy) -> pd.DataFrame:
    """The word-dropout model against the model trained on whole careers: perplexity and rationales."""
    rows = {}
    for label, summary in (("whole careers only", study.plain_summary), ("word dropout", study.summary)):
        key = "plain" if label == "whole careers only" else "word dropout"
        row = {"held-out perplexity": f"{study.perplexity[key]:.3f}"}
        for group in ("all", "moves"):
            if group in summary.index:
                row[f"mean size ({group})"] = f"{summary.loc[group, 'mean_size']:.2f}"
                row[f"reach the top 2 ({group})"] = f"{summary.loc[group, 'share_reached']:.0%}"
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def size_figure(rationales: list[Rationale]) -> matplotlib.figure.Figure:
    """Histogram of rationale sizes, stays and moves stacked."""
    sizes = np.array([r.size for r in rationales])
    moves = np.array([r.is_move for r in rationales])
    bins = np.arange(1, sizes.max() + 2)
    fig = matplotlib.figure.Figure(figsize=(6.0, 2.8), layout="constrained")
    ax = fig.subplots()
    stays_count = np.bincount(sizes[~moves], minlength=bins[-1])[1:]
    moves_count = np.bincount(sizes[moves], minlength=bins[-1])[1:]
    ax.bar(bins[:-1], stays_count, color="#4393c3", label="stays")
    ax.bar(bins[:-1], moves_count, bottom=stays_count, color="#d6604d", label="moves")
    ax.set_xticks(bins[:-1])
    ax.set_xlabel("rationale size (positions, the most recent job included)")
    ax.set_ylabel("predictions")
    ax.legend(frameon=False)
    return fig


def examples(rationales: list[Rationale], n: int = N_EXAMPLES) -> list[Rationale]:
    """The moves whose rationale reaches the top with the most positions (ties: panel order)."""
    moves = [r for r in rationales if r.is_move and r.reached and r.size > 1]
    return sorted(moves, key=lambda r: -r.size)[:n]


def rationale_blocks(study: RationaleStudy, *, level: int = 2, extra: Sequence[Rationale] = ()) -> list[Block]:
    """The rationale section: method, summary, the word-dropout contrast, sizes and example rationales.

    ``extra`` rationales (asked for by the user) are shown after the examples.
    """
    all_ = study.summary.loc["all"]
    moves = study.summary.loc["moves"] if "moves" in study.summary.index else None
    move_text = (
        f" Moves need more: {moves['mean_size']:.2f} positions on average, and {moves['share_reached']:.0%} reach "
        "the top two."
        if moves is not None
        else ""
    )
    blocks: list[Block] = [
        Paragraph(
            f"A copy of CAREER is fine-tuned with word dropout (mixture {study.mixture}: with that probability a "
            "training batch sees only a random subset of earlier years), so that it predicts from incomplete "
            f"careers ({study.finetune['steps']:,} updates, {study.finetune['seconds']:.0f} s). For "
            f"{int(all_['n'])} random held-out predictions (person-years with an earlier job, seed {study.seed}), "
            "greedy rationalization starts from the most recent job and adds, one at a time, the earlier job that "
            "raises the probability of the observed job most, until the observed job is among the two most likely. "
            f"On average a rationale holds **{all_['mean_size']:.2f}** of {all_['mean_positions']:.2f} available "
            f"positions; **{all_['share_reached']:.0%}** reach the top two; a rationale takes "
            f"{1000 * all_['mean_seconds']:.1f} ms.{move_text}"
        ),
        Table(summary_table(study.summary), caption="Rationales of the word-dropout model"),
        Table(
            contrast_table(study),
            caption="What word dropout costs (held-out perplexity) and changes (the same predictions rationalized)",
        ),
        Figure(size_figure(study.rationales), "rationale_sizes", caption="Rationale sizes of the sampled predictions."),
    ]
    shown = [*examples(study.rationales), *extra]
    if shown:
        blocks.append(Heading("Example rationales", level=level))
        for r in shown:
            blocks += [
                Preformatted(r.to_text()),
                Figure(
                    r.plot(),
                    f"rationale_{r.person}_{r.year}",
                    caption=f"P(observed job) as the rationale grows; green: within the top {r.top}.",
                ),
            ]
    return blocks


def write_rationale_report(
    study: RationaleStudy,
    out_dir: str | Path,
    *,
    title: str,
    command: str | None = None,
    extra: Sequence[Rationale] = (),
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``figures/`` and ``results.json`` (every rationale)."""
    report = Report(title)
    report.add(*rationale_blocks(study, level=2, extra=extra))
    if command:
        report.add(Heading("Command"), Preformatted(command))
    out = Path(out_dir)
    paths = report.write(out)
    results = {**study.to_dict(), "explained": [r.to_dict() for r in extra], "command": command}
    paths["results"] = write_json_atomic(out / "results.json", results)
    return paths
