"""The study of ``career_pretraining.py``: draw the panels, pretrain, fine-tune, fit the references, score.

Everything here runs the experiment and records it in a :class:`Study`; the
report is built from that record by ``pretraining_report.py``. Seeds of the
panels are :data:`SEEDS`; every model is fitted with ``rng=0``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from career_oracle import baseline, oracle_ratios

from laborseq import CareerPanel
from laborseq._util.environment import environment
from laborseq.evaluation.comparison import ComparisonResult
from laborseq.models import CAREER, SequenceModel, TrueProcessModel, clone
from laborseq.models.career import PRESETS
from laborseq.synthetic import SyntheticCareers

SHAPES = ("n_layers", "d_model", "n_heads", "d_ff")
REPO = Path(__file__).resolve().parent.parent
SEEDS = {"resumes": 2, "resume_valid": 3, "survey_train": 4, "survey_valid": 5, "survey_test": 6}
"""Seeds of the five panels drawn from the process."""
LEVEL = 0.95
"""Level of the person-bootstrap intervals (``oracle_ratios`` uses 95% too)."""
ORACLE = "oracle"
CAREER_MODELS = ("career_pretrained_finetuned", "career_survey_only", "career_pretrained_only")
BASELINES = ("markov1", "markov2", "mnlogit")


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
    """What :func:`laborseq._util.environment.environment` leaves out about the CPU: threads and load, by name.

    Returns
    -------
    dict
        ``cpu_model`` (the environment's ``processor``), ``logical_cpus``,
        ``torch_threads`` and ``load_average`` (1, 5, 15 minutes).
    """
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "cpu_model": environment()["processor"],
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": load,
    }


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
        The pretrained model (fitted on the resumes), carrying the fine-tuning schedule that
        :func:`finetune` gives the model that starts from it.
    """
    pretrain_schedule = {"lr": 1e-3, "warmup_steps": 300, "max_steps": steps, "max_tokens": 16_000}
    finetune_schedule = {"finetune_lr": 3e-4, "finetune_warmup_steps": 100, "finetune_max_steps": 5_000}
    model = CAREER(
        **shape, **pretrain_schedule, **finetune_schedule, eval_every=eval_every, patience=None, progress=True
    )
    return model.fit(resumes, valid=valid, rng=0)


def finetune(model: CAREER, panels: Panels) -> CAREER:
    """Fine-tune a pretrained model on the survey with the ``small`` preset's batches and patience.

    Parameters
    ----------
    model : CAREER
        The pretrained model (left as it is; a new model starts from its weights).
    panels : Panels
        Survey training and validation panels.

    Returns
    -------
    CAREER
        A new model fine-tuned from ``model``.
    """
    small = PRESETS["small"]
    tuned = clone(model).set_params(
        pretrained=model, max_tokens=small["max_tokens"], patience=small["patience"], eval_every=None, progress=False
    )
    return tuned.fit(panels.survey_train, valid=panels.survey_valid, rng=0)


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
    names = {"low": "ci_low", "high": "ci_high", "transitions": "perplexity_transitions"}
    table = result.table()[["perplexity", "low", "high", "transitions"]].rename(columns=names)
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
