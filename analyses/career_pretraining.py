"""Does pretraining help? CAREER pretrained on 1,000,000 synthetic resumes, fine-tuned on a 5,000-person survey.

The synthetic process (:class:`laborseq.sources.SyntheticCareers`, seed 0) has
a resume-like population (annual, younger, far more educated, a different
latent-type mix) and a survey-like one (biennial from 1994, missed waves). The
script streams the resume corpus to parquet, reads it back, pretrains CAREER
on it (early stopping on 10,000 held-out resumes), fine-tunes on 5,000 survey
persons (1,000 more for early stopping) and scores 10,000 fresh survey persons,
next to the same CAREER trained on the survey alone, the pretrained model
without fine-tuning, Markov chains, the multinomial logit, and the oracle.
Run from the repository root::

    .venv/bin/python analyses/career_pretraining.py [--resume-persons 1000000] [--pretrain-steps 1500] [--out DIR]

On the 2-core CPU the network is the ``small`` shape (2 layers, width 64, 2
heads, FFN 256) rather than the paper's 12 x 192; ``--paper`` selects the
paper shape (for a GPU). Prints the timings of each stage, tokens per second
of pretraining, and the comparison table with ratios to the oracle, and writes
a report directory (``--out``, default ``reports/synthetic-pretraining/``):
``report.md``, a self-contained ``report.html``, ``figures/`` (ratio to the
oracle per model; validation loss against tokens seen) and ``results.json``
(every number of the report, the training histories, the machine and the
command line). The other options size a quick check (``--resume-valid-persons``,
``--survey-valid-persons``, ``--test-persons``, ``--eval-every``,
``--mnlogit-iter``, ``--n-boot``); their defaults are the study's.

Runtime and machine: the full default run (1,000,000 resumes, 1,500
pretraining updates) took 861 s of wall time on 2026-11-22 on a 2-core AMD EPYC
CPU with 2 torch threads and no GPU: 561 s of pretraining at 42,541 tokens/s,
20 s of fine-tuning, 46 s for the survey-only CAREER and 160 s for the
multinomial logit; the report's "Runtime and machine" section has every stage.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.axes
import matplotlib.figure
import matplotlib.ticker
import numpy as np
import pandas as pd
import torch
from career_oracle import baseline, oracle_ratios

from laborseq import CareerPanel
from laborseq._util.environment import environment
from laborseq._util.io import write_json_atomic
from laborseq.evaluation.compare import ComparisonResult, compare
from laborseq.models import CAREER, SequenceModel, TrueProcessModel
from laborseq.models.career import PRESETS
from laborseq.report.document import Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.synthetic import SyntheticCareers
from laborseq.synthetic.careers import EDUCATION_LEVELS, GENDERS, RACES, REGIONS, Population

SHAPES = ("n_layers", "d_model", "n_heads", "d_ff")
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "reports" / "synthetic-pretraining"
SEEDS = {"resumes": 2, "resume_valid": 3, "survey_train": 4, "survey_valid": 5, "survey_test": 6}
"""Seeds of the five panels drawn from the process."""
LEVEL = 0.95
"""Level of the person-bootstrap intervals (``oracle_ratios`` uses 95% too)."""
ORACLE = "oracle"
CAREER_MODELS = ("career_pretrained_finetuned", "career_survey_only", "career_pretrained_only")
BASELINES = ("markov1", "markov2", "mnlogit")
BLUE, GREY, ORANGE = "#1f4e79", "#7f7f7f", "#c55a11"


# ---------------------------------------------------------------------- command line and bookkeeping
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults: the full study).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        The parsed options.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume-persons", type=int, default=1_000_000)
    parser.add_argument("--resume-valid-persons", type=int, default=10_000, help="held-out resumes (early stopping)")
    parser.add_argument("--survey-persons", type=int, default=5_000)
    parser.add_argument("--survey-valid-persons", type=int, default=1_000, help="survey persons for early stopping")
    parser.add_argument("--test-persons", type=int, default=10_000)
    parser.add_argument("--pretrain-steps", type=int, default=1_500, help="updates of 16,000-token batches")
    parser.add_argument("--eval-every", type=int, default=250, help="pretraining updates between validations")
    parser.add_argument("--paper", action="store_true", help="the paper's 12 x 192 network instead of the small one")
    parser.add_argument("--workdir", default=None, help="where the resume parquet goes (default: a temp dir)")
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--mnlogit-iter", type=int, default=300, help="L-BFGS iterations of the logit")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"report directory (default: {DEFAULT_OUT})")
    return parser.parse_args(argv)


@contextmanager
def stage(timings: dict[str, float], name: str) -> Iterator[None]:
    """Record the wall seconds of the ``with`` block as ``timings[name]``.

    Parameters
    ----------
    timings : dict of str to float
        Where the duration is stored (in the order the stages run).
    name : str
        Name of the stage.
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - started


def machine() -> dict[str, Any]:
    """What :func:`laborseq.evaluation.compare.environment` leaves out about the CPU: model, cores, threads, load.

    Returns
    -------
    dict
        ``cpu_model`` (from ``/proc/cpuinfo`` where there is one), ``logical_cpus``,
        ``torch_threads`` and ``load_average`` (1, 5, 15 minutes).
    """
    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        model = names[0] if names else model
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": load,
    }


def interpreter() -> str:
    """The Python executable, relative to the repository root when it lies inside it (the virtualenv)."""
    executable = Path(sys.executable)
    return str(executable.relative_to(REPO)) if executable.is_relative_to(REPO) else str(executable)


def panel_counts(panel: CareerPanel) -> dict[str, Any]:
    """Persons, person-years, targets and calendar years of a panel.

    Parameters
    ----------
    panel : CareerPanel
        Any panel.

    Returns
    -------
    dict
        ``persons``, ``person_years``, ``targets``, ``first_year`` and ``last_year``.
    """
    years = panel.years
    return {
        "persons": panel.n_persons,
        "person_years": len(panel),
        "targets": panel.n_targets,
        "first_year": int(years[0]),
        "last_year": int(years[-1]),
    }


# ---------------------------------------------------------------------- the study
@dataclass
class Panels:
    """The held-out and survey panels (the resume corpus itself is freed after pretraining)."""

    resume_valid: CareerPanel
    survey_train: CareerPanel
    survey_valid: CareerPanel
    survey_test: CareerPanel

    def counts(self) -> dict[str, dict[str, Any]]:
        """:func:`panel_counts` of every panel, by field name."""
        return {name: panel_counts(getattr(self, name)) for name in self.__dataclass_fields__}


def draw_panels(process: SyntheticCareers, args: argparse.Namespace) -> Panels:
    """Draw the resume validation panel and the survey training, validation and test panels.

    Parameters
    ----------
    process : SyntheticCareers
        The true process.
    args : argparse.Namespace
        Options (the panel sizes).

    Returns
    -------
    Panels
        Panels seeded by :data:`SEEDS`.
    """
    return Panels(
        resume_valid=process.sample(args.resume_valid_persons, population="resume", rng=SEEDS["resume_valid"]),
        survey_train=process.sample(args.survey_persons, population="survey", rng=SEEDS["survey_train"]),
        survey_valid=process.sample(args.survey_valid_persons, population="survey", rng=SEEDS["survey_valid"]),
        survey_test=process.sample(args.test_persons, population="survey", rng=SEEDS["survey_test"]),
    )


def network_shape(paper: bool) -> dict[str, int]:
    """Transformer shape: the ``paper`` preset (the class defaults) or the ``small`` one.

    Parameters
    ----------
    paper : bool
        Use the paper's 12 x 192 network.

    Returns
    -------
    dict of str to int
        ``n_layers``, ``d_model``, ``n_heads`` and ``d_ff``.
    """
    return {k: PRESETS["paper" if paper else "small"].get(k, getattr(CAREER(), k)) for k in SHAPES}


def pretrain(resumes: CareerPanel, valid: CareerPanel, shape: Mapping[str, int], steps: int, eval_every: int) -> CAREER:
    """Pretrain CAREER on the resume corpus (no patience: ``steps`` updates of 16,000-token batches).

    Parameters
    ----------
    resumes, valid : CareerPanel
        The corpus and the held-out resumes scored every ``eval_every`` updates.
    shape : mapping of str to int
        Network shape (:func:`network_shape`).
    steps, eval_every : int
        Updates and updates between validations.

    Returns
    -------
    CAREER
        The pretrained model, carrying the fine-tuning schedule for its next :meth:`~CAREER.fit`.
    """
    pretrain_schedule = {"lr": 1e-3, "warmup_steps": 300, "max_steps": steps, "max_tokens": 16_000}
    finetune_schedule = {"finetune_lr": 3e-4, "finetune_warmup_steps": 100, "finetune_max_steps": 5_000}
    model = CAREER(
        **shape, **pretrain_schedule, **finetune_schedule, eval_every=eval_every, patience=None, progress=True
    )
    return model.pretrain(resumes, valid=valid, rng=0)


def finetune(model: CAREER, panels: Panels) -> CAREER:
    """Fine-tune a pretrained model on the survey with the ``small`` preset's batches and patience.

    Parameters
    ----------
    model : CAREER
        The pretrained model (changed in place).
    panels : Panels
        Survey training and validation panels.

    Returns
    -------
    CAREER
        ``model``, fine-tuned.
    """
    small = PRESETS["small"]
    model.set_params(max_tokens=small["max_tokens"], patience=small["patience"], eval_every=None, progress=False)
    return model.fit(panels.survey_train, valid=panels.survey_valid, rng=0)


def fit_references(
    process: SyntheticCareers,
    shape: Mapping[str, int],
    panels: Panels,
    mnlogit_iter: int,
    timings: dict[str, float],
) -> dict[str, SequenceModel]:
    """Fit the oracle, CAREER on the survey alone and the baselines, timing each.

    Parameters
    ----------
    process : SyntheticCareers
        The true process (its survey population is the oracle).
    shape : mapping of str to int
        Network shape of the survey-only CAREER.
    panels : Panels
        Survey training and validation panels.
    mnlogit_iter : int
        L-BFGS iterations of the logit.
    timings : dict of str to float
        Receives ``fit <name>`` stages.

    Returns
    -------
    dict of str to SequenceModel
        ``oracle``, ``career_survey_only``, ``markov1``, ``markov2``, ``mnlogit``.
    """
    train, valid = panels.survey_train, panels.survey_valid
    models: dict[str, SequenceModel] = {}
    with stage(timings, f"fit {ORACLE}"):
        models[ORACLE] = TrueProcessModel.from_process(process, population="survey").fit(train)
    with stage(timings, "fit career_survey_only"):
        models["career_survey_only"] = CAREER.preset("small", **shape).fit(train, valid=valid, rng=0)
    for name in BASELINES:
        with stage(timings, f"fit {name}"):
            models[name] = baseline(name, max_iter=mnlogit_iter).fit(train, valid=valid, rng=0)
    return models


def ratio_table(result: ComparisonResult, n_boot: int) -> pd.DataFrame:
    """Perplexities (with intervals) joined with the ratios to the oracle, best model first.

    Parameters
    ----------
    result : ComparisonResult
        Output of :func:`compare`, with an ``oracle`` model.
    n_boot : int
        Bootstrap draws of the ratio intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``perplexity``, ``ci_low``, ``ci_high``, ``perplexity_transitions`` and
        those of :func:`career_oracle.oracle_ratios`.
    """
    table = result.table()[["perplexity", "ci_low", "ci_high", "perplexity_transitions"]]
    return table.join(oracle_ratios(result, ORACLE, n_boot=n_boot))


def reference_losses(process: SyntheticCareers, pretrained: CAREER, panels: Panels) -> dict[str, float]:
    """Mean NLL per person-year on the validation panels, the scale of the training curves.

    Parameters
    ----------
    process : SyntheticCareers
        The true process (the oracle's loss is the floor).
    pretrained : CAREER
        The pretrained model before fine-tuning (the fine-tuning curve's starting point).
    panels : Panels
        The validation panels.

    Returns
    -------
    dict of str to float
        ``oracle_resume_valid``, ``oracle_survey_valid`` and ``pretrained_survey_valid`` (nats).
    """
    return {
        "oracle_resume_valid": float(-process.log_likelihood(panels.resume_valid, "resume").mean()),
        "oracle_survey_valid": float(-process.log_likelihood(panels.survey_valid, "survey").mean()),
        "pretrained_survey_valid": float(-pretrained.score(panels.survey_valid)),
    }


# ---------------------------------------------------------------------- labels and formatting
def model_labels(mnlogit_iter: int) -> dict[str, str]:
    """What each model is, for tables.

    Parameters
    ----------
    mnlogit_iter : int
        L-BFGS iterations of the logit (part of its label).

    Returns
    -------
    dict of str to str
        Label by model name.
    """
    return {
        ORACLE: "Oracle: the true process (survey population)",
        "career_pretrained_finetuned": "CAREER pretrained on resumes, fine-tuned on the survey",
        "career_pretrained_only": "CAREER pretrained on resumes only (no fine-tuning)",
        "career_survey_only": "CAREER trained on the survey only",
        "markov1": "First-order Markov chain",
        "markov2": "Second-order Markov chain",
        "mnlogit": f"Multinomial logit ({mnlogit_iter:,} L-BFGS iterations)",
    }


SHORT_LABELS = {
    "career_pretrained_finetuned": "CAREER, pretrained + fine-tuned",
    "career_pretrained_only": "CAREER, pretrained only",
    "career_survey_only": "CAREER, survey only",
    "markov1": "Markov chain, order 1",
    "markov2": "Markov chain, order 2",
    "mnlogit": "Multinomial logit",
}
"""Model names on the figures' axes."""


def interval(centre: float, bounds: Sequence[float], digits: int = 3) -> str:
    """``centre [low, high]`` with ``digits`` decimals."""
    return f"{centre:.{digits}f} [{bounds[0]:.{digits}f}, {bounds[1]:.{digits}f}]"


def excess_sentence(table: pd.DataFrame) -> str:
    """How pretraining changes the survey-only model's excess over the oracle (ratio - 1).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`ratio_table`.

    Returns
    -------
    str
        A sentence with both excesses and the relative change.
    """
    scratch = table.loc["career_survey_only", "ratio_all"] - 1
    tuned = table.loc["career_pretrained_finetuned", "ratio_all"] - 1
    change = (tuned - scratch) / scratch if scratch > 0 else float("nan")
    verb = "cuts" if tuned < scratch else "raises"
    return (
        f"Pretraining {verb} the survey-only model's excess over the oracle (ratio - 1) from {scratch:.3f} "
        f"to {tuned:.3f} ({abs(change):.0%} {'less' if tuned < scratch else 'more'})."
    )


# ---------------------------------------------------------------------- figures
def ratio_figure(table: pd.DataFrame) -> matplotlib.figure.Figure:
    """Dot-and-whisker plot of every model's perplexity ratio to the oracle (all years, transitions only).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`ratio_table`; the oracle's row is drawn as the dashed line at 1.

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
        :func:`reference_losses`.
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


# ---------------------------------------------------------------------- report
@dataclass
class Study:
    """Everything the report and ``results.json`` are made of."""

    args: argparse.Namespace
    process: SyntheticCareers
    shape: dict[str, int]
    corpus: dict[str, Any]
    panels: dict[str, dict[str, Any]]
    n_parameters: int
    pretraining: dict[str, Any]
    finetuning: dict[str, Any]
    survey_only: dict[str, Any]
    references: dict[str, float]
    table: pd.DataFrame
    result: ComparisonResult
    timings: dict[str, float]
    machine_start: dict[str, Any]
    machine_end: dict[str, Any]
    command: str


def headline_table(study: Study) -> pd.DataFrame:
    """The results table of the report: perplexity and ratios to the oracle with intervals, best first."""
    labels = model_labels(study.args.mnlogit_iter)
    rows = {}
    for name, r in study.table.iterrows():
        oracle = name == ORACLE
        rows[name] = {
            "description": labels.get(name, name),
            "test perplexity [95% CI]": interval(r.perplexity, (r.ci_low, r.ci_high)),
            "ratio to oracle [95% CI]": "1 (reference)" if oracle else interval(r.ratio_all, r.ratio_all_ci),
            "ratio to oracle, transitions only [95% CI]": (
                "1 (reference)" if oracle else interval(r.ratio_transitions, r.ratio_transitions_ci)
            ),
        }
    frame = pd.DataFrame(rows).T
    frame.index.name = "model"
    return frame


def opening(study: Study) -> Paragraph:
    """The finding, with its numbers."""
    t, test = study.table, study.panels["survey_test"]
    tuned, scratch, only = (t.loc[name] for name in CAREER_MODELS)
    best_baseline = t.loc[list(BASELINES), "ratio_all"].idxmin()
    return Paragraph(
        f"On {test['persons']:,} fresh survey-like test persons ({test['targets']:,} person-years), CAREER "
        f"pretrained on {study.corpus['persons']:,} synthetic resumes and fine-tuned on "
        f"{study.panels['survey_train']['persons']:,} survey persons reaches test perplexity "
        f"**{interval(tuned.perplexity, (tuned.ci_low, tuned.ci_high))}**, "
        f"{interval(tuned.ratio_all, tuned.ratio_all_ci)} times the oracle's "
        f"({t.loc[ORACLE, 'perplexity']:.3f}, the true process). The same network trained on the survey alone "
        f"is at {interval(scratch.ratio_all, scratch.ratio_all_ci)} times the oracle, the pretrained model "
        f"without fine-tuning at {interval(only.ratio_all, only.ratio_all_ci)}, and the best baseline, "
        f"{best_baseline}, at {interval(t.loc[best_baseline, 'ratio_all'], t.loc[best_baseline, 'ratio_all_ci'])}. "
        + excess_sentence(t)
        + " Perplexity is the effective number of equally likely next states (lower is better); intervals are "
        "95% person-bootstrap intervals."
    )


def observed(pop: Population) -> str:
    """How often a population is observed, in words."""
    if pop.biennial_from is None:
        return "every year"
    return f"every other year from {pop.biennial_from}, missing each later wave with probability {pop.miss_prob:g}"


def degree_share(pop: Population) -> float:
    """Share of a population attaining a bachelor's degree or more."""
    return float(sum(pop.education[EDUCATION_LEVELS.index("bachelors") :]))


def population_paragraph(process: SyntheticCareers) -> Paragraph:
    """The process and how its two populations differ, from its :class:`Population` objects."""
    survey, resume = process.population("survey"), process.population("resume")
    born = {pop.name: f"{pop.birth_years[0]}-{pop.birth_years[1]}" for pop in (survey, resume)}
    return Paragraph(
        f"Careers are drawn from `SyntheticCareers(seed={process.seed})`, a process with a known likelihood over "
        f"{len(process.states):,} states ({process.n_occupations} occ1990dd occupations"
        f"{' plus unemployment' if process.unemployment else ''}) and {process.n_types} latent types. Its two "
        "populations share the state space and the career dynamics but differ in who is observed, when and how "
        f"often. The resume-like corpus is observed {observed(resume)}, born {born['resume']}, "
        f"{degree_share(resume):.0%} with a bachelor's degree or more, and selected on the latent type (type shift "
        f"{resume.type_shift:g}), so its type mix differs even at equal covariates. The survey-like panel is observed "
        f"{observed(survey)}, born {born['survey']}, {degree_share(survey):.0%} with a bachelor's degree or more, "
        f"type shift {survey.type_shift:g}. The oracle is the true process for the survey population, with the "
        "latent type marginalised by forward filtering: the floor no model can beat in expectation."
    )


def population_table(process: SyntheticCareers) -> pd.DataFrame:
    """The sampling designs of the survey and resume populations, from the process's :class:`Population` objects."""

    def shares(values: Sequence[float]) -> str:
        return " / ".join(f"{v:.2f}" for v in values)

    def design(pop: Population) -> dict[str, str]:
        return {
            "birth years": f"{pop.birth_years[0]}-{pop.birth_years[1]}",
            "age at first observation": f"{pop.entry_age[0]}-{pop.entry_age[1]}",
            "first observed years": f"{pop.first_years[0]}-{pop.first_years[1]}",
            "last calendar year": str(pop.last_year),
            "mean / longest span (years)": f"{pop.mean_span:g} / {pop.max_span}",
            "observed": "every year" if pop.biennial_from is None else f"every other year from {pop.biennial_from}",
            "probability of missing a wave": f"{pop.miss_prob:g}",
            f"education ({' / '.join(EDUCATION_LEVELS)})": shares(pop.education),
            f"gender ({' / '.join(GENDERS)})": shares(pop.gender),
            f"race ({' / '.join(RACES)})": shares(pop.race),
            f"region ({' / '.join(REGIONS)})": shares(pop.region),
            "selection on latent type (type_shift)": f"{pop.type_shift:g}",
        }

    frame = pd.DataFrame({name: design(process.population(name)) for name in ("survey", "resume")})
    frame.index.name = "design"
    return frame


def data_table(study: Study) -> pd.DataFrame:
    """Persons, person-years, targets, years and seeds of every panel."""
    parts = {
        "resume corpus (pretraining)": (study.corpus, SEEDS["resumes"]),
        "held-out resumes (pretraining early stopping)": (study.panels["resume_valid"], SEEDS["resume_valid"]),
        "survey training": (study.panels["survey_train"], SEEDS["survey_train"]),
        "survey validation (early stopping)": (study.panels["survey_valid"], SEEDS["survey_valid"]),
        "survey test": (study.panels["survey_test"], SEEDS["survey_test"]),
    }
    frame = pd.DataFrame(
        {
            name: {
                "persons": f"{c['persons']:,}",
                "person-years": f"{c['person_years']:,}",
                "targets": f"{c['targets']:,}",
                "years": f"{c['first_year']}-{c['last_year']}",
                "seed": seed,
            }
            for name, (c, seed) in parts.items()
        }
    ).T
    frame.index.name = "panel"
    return frame


def training_table(study: Study) -> pd.DataFrame:
    """Schedule and outcome of pretraining, fine-tuning and survey-only training, from the models' records."""

    def column(record: Mapping[str, Any]) -> dict[str, str]:
        config = record["config"]
        best = record["best_valid_loss"]
        return {
            "peak learning rate": f"{config['lr']:g}",
            "warmup updates": f"{config['warmup_steps']:,}",
            "maximum updates": "none" if config["max_steps"] is None else f"{config['max_steps']:,}",
            "tokens per batch (budget)": f"{config['max_tokens']:,}",
            "validation": "every epoch" if config["eval_every"] is None else f"every {config['eval_every']:,} updates",
            "patience (validations)": "none" if config["patience"] is None else str(config["patience"]),
            "updates made": f"{record['steps']:,}",
            "tokens (person-years) seen": f"{record['tokens']:,}",
            "epochs": f"{record['epochs']:.2f}",
            "wall seconds": f"{record['seconds']:.1f}",
            "tokens per second": f"{record['tokens_per_second']:,.0f}",
            "best validation loss (nats)": "-" if best is None else f"{best:.4f}",
            "at update": "-" if record["best_step"] is None else f"{record['best_step']:,}",
            "stopped by": str(record["stopped"]).replace("_", " "),
        }

    frame = pd.DataFrame(
        {
            "pretraining (resumes)": column(study.pretraining),
            "fine-tuning (survey)": column(study.finetuning),
            "survey only (from scratch)": column(study.survey_only),
        }
    )
    frame.index.name = "setting"
    return frame


def what_was_done(study: Study) -> list[Any]:
    """Blocks of the section on the process, the data, the network and the schedules."""
    process, corpus, shape = study.process, study.corpus, study.shape
    alignment = study.finetuning.get("alignment", {}).get("states", {})
    return [
        Heading("What was done"),
        population_paragraph(process),
        Table(population_table(process), caption="Sampling designs of the two populations (shares in the order named)"),
        Paragraph(
            f"The resume corpus ({corpus['persons']:,} persons, {corpus['person_years']:,} person-years) is streamed "
            f"to parquet ({corpus['parquet_bytes'] / 1e6:.1f} MB) and read back before pretraining; the other panels "
            "are drawn in memory, each with its own seed."
        ),
        Table(data_table(study), caption="Panels (a target is a person-year to predict)"),
        Paragraph(
            f"CAREER is a causal transformer with {shape['n_layers']} layers of width {shape['d_model']}, "
            f"{shape['n_heads']} attention heads and feed-forward width {shape['d_ff']} "
            f"({'the paper preset' if study.args.paper else 'the `small` preset shape'}), {study.n_parameters:,} "
            f"trained parameters. Pretraining runs {study.pretraining['steps']:,} updates "
            f"({study.pretraining['tokens']:,} tokens, {study.pretraining['epochs']:.2f} epochs of the corpus) at "
            f"{study.pretraining['tokens_per_second']:,.0f} tokens per second. Fine-tuning starts from the pretrained "
            f"weights ({alignment.get('shared', 0)} of {alignment.get('shared', 0) + alignment.get('new', 0)} "
            "survey states share a pretrained embedding) and stops early on the survey validation persons; the "
            "survey-only CAREER trains the same shape from scratch with the `small` preset. The Markov chains come "
            f"from the model registry; the logit uses all features with its L-BFGS capped at "
            f"{study.args.mnlogit_iter:,} iterations. Every model is fitted on the same survey training persons."
        ),
        Table(training_table(study), caption="Training schedules and outcomes, as recorded by the models"),
        Paragraph(
            "Perplexity is exp of the mean negative log-likelihood per target person-year of the test panel, the "
            "first observed year included (it is predicted from covariates); *transitions only* drops it. Intervals "
            f"resample test persons with replacement ({study.result.n_boot:,} draws); the ratios to the oracle are "
            "paired: each draw divides a model's perplexity by the oracle's on the same persons."
        ),
    ]


def runtime_section(study: Study) -> list[Any]:
    """Blocks of the runtime and machine section."""
    timings = pd.DataFrame({"wall seconds": {k: f"{v:,.1f}" for k, v in study.timings.items()}})
    timings.index.name = "stage"
    env = {**environment(), **{k: v for k, v in study.machine_start.items() if k != "load_average"}}
    env["load average at start (1, 5, 15 min)"] = study.machine_start["load_average"]
    env["load average at end (1, 5, 15 min)"] = study.machine_end["load_average"]
    lines = [f"{k}: {v}" for k, v in env.items()]
    lines += [f"interpreter: {interpreter()}", f"command (sys.argv): {study.command}"]
    return [
        Heading("Runtime and machine"),
        Paragraph(
            f"The whole run took **{study.timings['total']:,.0f} s** of wall time (writing this report excluded), "
            f"{study.timings['pretrain']:,.0f} s of it pretraining, on {study.machine_start['cpu_model']} with "
            f"{study.machine_start['logical_cpus']} logical CPUs, PyTorch using {study.machine_start['torch_threads']} "
            f"thread(s), CUDA device: {environment()['cuda']}. Timings include whatever else the machine ran "
            "(the load averages below)."
        ),
        Table(timings, caption="Wall seconds per stage"),
        Preformatted("\n".join(lines)),
    ]


def build_report(study: Study) -> Report:
    """The report: finding, results table and figures, then what was done and the runtime.

    Parameters
    ----------
    study : Study
        The finished run.

    Returns
    -------
    Report
        Ready for :meth:`Report.write`.
    """
    report = Report("Does pretraining help? CAREER on synthetic resumes, fine-tuned on a synthetic survey")
    report.add(
        opening(study),
        Heading("Results"),
        Table(headline_table(study), caption="Survey test perplexity and ratio to the oracle, best first"),
        Figure(
            ratio_figure(study.table),
            "ratio_to_oracle",
            caption="Test perplexity of each model divided by the oracle's; whiskers are paired 95% "
            "person-bootstrap intervals (often narrower than the dot).",
        ),
    )
    histories = {
        "pretrain": study.pretraining["history"],
        "finetune": study.finetuning["history"],
        "survey_only": study.survey_only["history"],
    }
    n_valid = (study.panels[name]["persons"] for name in ("resume_valid", "survey_valid"))
    curves = loss_figure(histories, study.references, *n_valid)
    if curves is not None:
        report.add(
            Heading("Training curves"),
            Figure(
                curves,
                "validation_loss",
                caption="Validation loss against person-years seen. Left: pretraining, scored on held-out resumes. "
                "Right: on the survey validation persons, fine-tuning from the pretrained weights (the first point "
                "is the pretrained model before any update) and the same network trained from scratch. "
                "Dashed: the oracle's loss on the same persons.",
            ),
        )
    report.add(*what_was_done(study), *runtime_section(study))
    return report


def results_dict(study: Study) -> dict[str, Any]:
    """The content of ``results.json``: settings, data, training records and histories, results, runtime."""
    models = {}
    for name, r in study.table.iterrows():
        models[name] = {
            "perplexity": r.perplexity,
            "perplexity_ci": [r.ci_low, r.ci_high],
            "perplexity_transitions": r.perplexity_transitions,
            "ratio_to_oracle": r.ratio_all,
            "ratio_to_oracle_ci": list(r.ratio_all_ci),
            "ratio_to_oracle_transitions": r.ratio_transitions,
            "ratio_to_oracle_transitions_ci": list(r.ratio_transitions_ci),
        }
    return {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(study.args).items()},
        "seeds": SEEDS,
        "process": {"seed": study.process.seed, "states": len(study.process.states), "types": study.process.n_types},
        "populations": {name: study.process.population(name).to_dict() for name in ("survey", "resume")},
        "data": {"resume_corpus": study.corpus, **study.panels},
        "network": {**study.shape, "n_parameters": study.n_parameters},
        "pretraining": study.pretraining,
        "finetuning": study.finetuning,
        "survey_only": study.survey_only,
        "reference_losses": study.references,
        "models": models,
        "comparison": study.result.to_dict(),
        "timings_seconds": study.timings,
        "environment": environment(),
        "machine": {"start": study.machine_start, "end": study.machine_end},
        "command": study.command,
    }


def write_outputs(study: Study, out_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``figures/`` and ``results.json`` under ``out_dir``.

    Parameters
    ----------
    study : Study
        The finished run.
    out_dir : Path
        Report directory (created).

    Returns
    -------
    dict of str to Path
        The written paths.
    """
    paths = build_report(study).write(out_dir)
    paths["results"] = write_json_atomic(out_dir / "results.json", results_dict(study))
    return paths


# ---------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> None:
    """Run the study, print the tables and write the report directory."""
    args = parse_args(argv)
    started = time.perf_counter()
    machine_start = machine()
    shape = network_shape(args.paper)
    process = SyntheticCareers(seed=0)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="laborseq-pretrain-"))
    timings: dict[str, float] = {}

    with stage(timings, "generate and read resumes"):
        path = process.write_parquet(
            workdir / "resumes.parquet", args.resume_persons, population="resume", rng=SEEDS["resumes"]
        )
        resumes = CareerPanel.read_parquet(path)
    with stage(timings, "draw survey and validation panels"):
        panels = draw_panels(process, args)
    print(f"resumes: {resumes} ({path.stat().st_size / 1e6:.0f} MB parquet)")
    print(f"survey: train {panels.survey_train}\n        test {panels.survey_test}")
    corpus = {**panel_counts(resumes), "parquet_bytes": path.stat().st_size}

    with stage(timings, "pretrain"):
        model = pretrain(resumes, panels.resume_valid, shape, args.pretrain_steps, args.eval_every)
    record = model.training_
    print(
        f"pretraining: {record['steps']} updates, {record['tokens']:,} tokens ({record['epochs']:.2f} epochs) "
        f"in {record['seconds']:.0f} s = {record['tokens_per_second']:,.0f} tokens/s; best resume valid loss "
        f"{record['best_valid_loss']:.4f} nats at update {record['best_step']}"
    )
    pretrained_only = copy.deepcopy(model)
    del resumes
    with stage(timings, "fine-tune"):
        finetune(model, panels)

    references = fit_references(process, shape, panels, args.mnlogit_iter, timings)
    models = {
        ORACLE: references[ORACLE],
        "career_pretrained_finetuned": model,
        "career_survey_only": references["career_survey_only"],
        "career_pretrained_only": pretrained_only,
        **{name: references[name] for name in BASELINES},
    }
    with stage(timings, "score and bootstrap"):
        result = compare(
            models, panels.survey_train, panels.survey_test, refit=False, rng=0, n_boot=args.n_boot, level=LEVEL
        )
        table = ratio_table(result, args.n_boot)
    with stage(timings, "validation losses of the oracle and the pretrained model"):
        losses = reference_losses(process, pretrained_only, panels)
    timings["total"] = time.perf_counter() - started

    print(f"\nnetwork {shape}; timings (s): {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
    print(f"fine-tuning: {model.training_['steps']} updates, stopped by {model.training_['stopped']}")
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(table.round(4).to_string())

    study = Study(
        args=args,
        process=process,
        shape=shape,
        corpus=corpus,
        panels=panels.counts(),
        n_parameters=model.n_parameters,
        pretraining=record,
        finetuning=model.training_,
        survey_only=references["career_survey_only"].training_,
        references=losses,
        table=table,
        result=result,
        timings=timings,
        machine_start=machine_start,
        machine_end=machine(),
        command=shlex.join(sys.argv),
    )
    paths = write_outputs(study, args.out)
    print(f"report: {paths['markdown']} (and {paths['html'].name}, figures/, {paths['results'].name})")
    print(
        json.dumps(
            {
                "timings": timings,
                "pretraining": {k: v for k, v in record.items() if k != "history"},
                "table": json.loads(table.to_json(orient="index")),
            }
        )
    )


if __name__ == "__main__":
    main()
