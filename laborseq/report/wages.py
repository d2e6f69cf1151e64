"""The wage report: held-out log wages with and without career representations, and why they differ.

:func:`wage_blocks` turns a :class:`~laborseq.studies.wages.WageStudy` into report
blocks (design, held-out scores, paired differences with a figure, the
subgroup breakdown with a reading computed from its numbers, linearmodels'
comparison of the in-sample fits); :func:`write_wage_report` writes them with
``results.json`` and every fit's linearmodels summary.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib.axes
import matplotlib.figure
import numpy as np
import pandas as pd

from laborseq._util.environment import environment
from laborseq._util.format import format_interval
from laborseq._util.io import write_json_atomic, write_text_atomic
from laborseq.report.document import Block, Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.report.figures import model_colors
from laborseq.studies.wage_equation import HELDOUT_KINDS
from laborseq.studies.wage_tables import ESTIMATORS, components_table, difference_table, heldout_table, subgroup_table
from laborseq.studies.wages import CHANGED, FIRST_YEAR, MINCER, STAYED, SUBGROUPS, WageStudy

__all__ = [
    "rmse_difference_figure",
    "wage_blocks",
    "wage_report",
    "write_wage_report",
]


ESTIMATOR_COLORS = {"pooled": "#1f4e79", "random": "#8c2d04"}
"""Colours of the held-out estimators in the difference figure."""


def _interval4(values: Any) -> str:
    """An (estimate, low, high) triple with four decimals (:func:`~laborseq._util.format.format_interval`)."""
    estimate, low, high = values
    return format_interval(estimate, low, high, digits=4)


def _direction(low: float, high: float) -> str:
    """What an interval of a with-minus-without RMSE difference says."""
    if high < 0:
        return "lower; the interval excludes zero"
    if low > 0:
        return "higher; the interval excludes zero"
    return "the interval includes zero"


def _percent(level: float) -> str:
    return f"{100 * level:g}%"


def rmse_difference_figure(study: WageStudy) -> matplotlib.figure.Figure:
    """RMSE with minus without each representation, with intervals: overall per estimator, and per subgroup.

    Left: every held-out person-year, one row per representation and a
    marker per estimator. Right: pooled OLS per subgroup, one colour per
    representation. A dashed line marks zero (no difference).
    """
    names = study.representations
    fig = matplotlib.figure.Figure(figsize=(9.0, 1.8 + 0.45 * max(len(names), len(SUBGROUPS))), layout="constrained")
    overall, by_group = fig.subplots(1, 2)
    y = np.arange(len(names))[::-1]
    offsets = dict(zip(HELDOUT_KINDS, np.linspace(0.12, -0.12, len(HELDOUT_KINDS)), strict=True))
    for kind in HELDOUT_KINDS:
        rows = study.differences.xs(kind, level="estimator").reindex(names)
        _dot_intervals(overall, rows, y + offsets[kind], ESTIMATOR_COLORS[kind], ESTIMATORS[kind])
    overall.set_yticks(y, names)
    overall.set_title("All held-out person-years", fontsize=10)
    colors = model_colors(names)
    group_y = np.arange(len(SUBGROUPS))[::-1]
    spread = np.linspace(0.2, -0.2, len(names)) if len(names) > 1 else np.zeros(1)
    for offset, name in zip(spread, names, strict=True):
        rows = study.subgroups.xs(name, level="representation").reindex(SUBGROUPS)
        _dot_intervals(by_group, rows, group_y + offset, colors[name], name)
    by_group.set_yticks(group_y, [textwrap.fill(g, 18) for g in SUBGROUPS])
    by_group.set_title("By subgroup (pooled OLS)", fontsize=10)
    for ax in (overall, by_group):
        ax.axvline(0.0, color="#999999", linestyle="--", linewidth=1)
        ax.set_xlabel("RMSE with minus without (log wage)")
        ax.grid(axis="x", color="#dddddd")
        ax.margins(x=0.1)
        ax.locator_params(axis="x", nbins=5)
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.suptitle(f"Held-out RMSE difference with {_percent(study.level)} person-bootstrap intervals", fontsize=11)
    return fig


def _dot_intervals(ax: matplotlib.axes.Axes, rows: pd.DataFrame, y: np.ndarray, color: str, label: str) -> None:
    """Points at ``rmse_diff`` with lines from ``rmse_diff_low`` to ``rmse_diff_high``."""
    ax.hlines(y, rows["rmse_diff_low"], rows["rmse_diff_high"], color=color, linewidth=1.5)
    ax.plot(rows["rmse_diff"], y, "o", color=color, label=label, markersize=5)


def _design_text(study: WageStudy) -> str:
    pct = _percent(study.level)
    seed = "" if study.seed is None else f", seed {study.seed}"
    return (
        "The Mincer equation regresses log wage on experience, experience squared, years of schooling, "
        "calendar-year dummies and dummies of the **current** occupation. Each career representation is reduced "
        "to a few principal components fitted on the training persons' rows only and added to it. Every "
        f"specification is estimated on {study.n_train_persons:,} training persons "
        f"({study.n_train_person_years:,} person-years) by pooled OLS and random effects (linearmodels, standard "
        f"errors clustered by person) and predicts the log wages of {study.n_test_persons:,} held-out persons "
        f"({study.n_test_person_years:,} person-years); a new person has no estimated fixed effect, so fixed "
        f"effects appear only among the in-sample estimates. Intervals are {pct} percentile intervals over "
        f"{study.n_boot:,} draws of held-out persons{seed}, the same draws for every specification, so the "
        "differences are paired."
    )


def _subgroup_text() -> str:
    return (
        f"Held-out person-years fall into three groups by the occupation of the person's previous observation: "
        f"*{FIRST_YEAR}* (no previous observation), *{STAYED}* and *{CHANGED}*. For a stayer the previous "
        "occupation is the current one, which the Mincer design already holds, so a representation can only add "
        "what the longer history says. ΔMSE contributions are the group's share times its change in mean squared "
        "error; they add up to the overall change."
    )


def _reading(study: WageStudy) -> str:
    """What the differences and subgroups show, stated from their numbers."""
    sub = study.subgroups
    shares = sub.xs(study.representations[0], level="representation")["share"]
    sentences = [
        f"Of the {study.n_test_person_years:,} held-out person-years, {shares[FIRST_YEAR]:.1%} are first observed "
        f"years, {shares[STAYED]:.1%} repeat the previous occupation and {shares[CHANGED]:.1%} change occupation."
    ]
    for name in study.representations:
        overall = study.differences.loc[(name, "pooled")]
        rows = sub.xs(name, level="representation")
        groups = "; ".join(
            f"{group} {_interval4(rows.loc[group, ['rmse_diff', 'rmse_diff_low', 'rmse_diff_high']])} "
            f"({_direction(rows.loc[group, 'rmse_diff_low'], rows.loc[group, 'rmse_diff_high'])})"
            for group in (CHANGED, STAYED, FIRST_YEAR)
        )
        sentences.append(
            f"**{name}** (pooled OLS) changes the RMSE by "
            f"{_interval4(overall[['rmse_diff', 'rmse_diff_low', 'rmse_diff_high']])} overall "
            f"({_direction(overall['rmse_diff_low'], overall['rmse_diff_high'])}); by subgroup: {groups}. "
            f"Changers contribute {rows.loc[CHANGED, 'mse_contribution']:.5f} of the "
            f"{rows['mse_contribution'].sum():.5f} change in mean squared error."
        )
    helpful = [n for n in study.representations if study.differences.loc[(n, "pooled"), "rmse_diff_high"] < 0]
    sentences.append(
        f"Representations whose pooled OLS interval lies below zero: {', '.join(helpful)}."
        if helpful
        else "No representation's pooled OLS interval lies below zero: none detectably improves the held-out RMSE."
    )
    return " ".join(sentences)


def wage_blocks(study: WageStudy, *, level: int = 2) -> list[Block]:
    """The wage section: design, held-out scores, differences, subgroups and the linearmodels comparison.

    Parameters
    ----------
    study : WageStudy
        From :func:`laborseq.studies.wages.wage_study`.
    level : int
        Heading level of the section; its subsections are one level deeper.
    """
    sub = level + 1
    pct = _percent(study.level)
    first = study.representations[0]
    return [
        Heading("Wages with and without career representations", level),
        Paragraph(_design_text(study)),
        Table(components_table(study), caption="Principal components of each representation (training rows)"),
        Heading("Held-out log wages", sub),
        Table(heldout_table(study), caption=f"RMSE and R² on held-out persons, {pct} person-bootstrap intervals"),
        Heading("With minus without career representations", sub),
        Table(
            difference_table(study),
            caption="Paired differences; a negative ΔRMSE and a positive ΔR² mean the representation helps",
        ),
        Figure(
            rmse_difference_figure(study),
            "wage_rmse_differences",
            caption=f"Held-out RMSE with minus without each representation, {pct} paired intervals; zero is dashed.",
        ),
        Heading("Where the differences come from", sub),
        Paragraph(_subgroup_text()),
        Table(subgroup_table(study), caption=f"Pooled OLS by subgroup of held-out person-years, {pct} intervals"),
        Paragraph(_reading(study)),
        Heading("In-sample estimates (linearmodels)", sub),
        Paragraph(
            f"linearmodels' `compare` of the pooled, random-effects and fixed-effects fits on the training persons, "
            f"for the {MINCER} equation (pooled, RE, FE) and with the **{first}** components (pooled+, RE+, FE+); "
            "standard errors clustered by person in parentheses; the fixed-effects fits drop the regressors the "
            "person effects absorb."
        ),
        Preformatted(study.compare_summary(), wrap=False),
    ]


def wage_report(study: WageStudy, *, title: str, command: str | None = None) -> Report:
    """Build the wage report (see :func:`write_wage_report`)."""
    report = Report(title)
    report.add(
        *wage_blocks(study),
        Heading("Environment"),
        Preformatted(
            "\n".join(f"{k}: {v}" for k, v in environment().items()) + (f"\ncommand: {command}" if command else "")
        ),
    )
    return report


def _slug(text: str) -> str:
    """A file-name stem: lower case, runs of other characters replaced by ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def write_wage_report(
    study: WageStudy, out_dir: str | Path, *, title: str, command: str | None = None
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``figures/``, ``results.json`` and ``linearmodels/`` (paths).

    ``linearmodels/<specification>_<estimator>.txt`` holds each in-sample
    fit's full linearmodels summary and ``linearmodels/compare.txt`` their
    comparison; ``results.json`` holds :meth:`WageStudy.to_dict`, the
    environment and the command.
    """
    out = Path(out_dir)
    paths = wage_report(study, title=title, command=command).write(out)
    results = {**study.to_dict(), "environment": environment(), "command": command}
    paths["results"] = write_json_atomic(out / "results.json", results)
    paths["linearmodels"] = write_fit_summaries(study, out / "linearmodels")
    return paths


def write_fit_summaries(study: WageStudy, directory: str | Path) -> Path:
    """Write linearmodels' summary of every in-sample fit (``<specification>_<estimator>.txt``) and ``compare.txt``."""
    fits = Path(directory)
    for (spec, kind), text in study.fit_summaries().items():
        write_text_atomic(fits / f"{_slug(spec)}_{kind}.txt", text)
    write_text_atomic(fits / "compare.txt", study.compare_summary())
    return fits
