"""Does pretraining help? CAREER pretrained on 1,000,000 synthetic resumes, fine-tuned on a 5,000-person survey.

The synthetic process (:class:`laborseq.synthetic.SyntheticCareers`, seed 0) has
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

The stages live in ``pretraining_study.py``, the report in
``pretraining_report.py`` and its figures in ``pretraining_figures.py``
(sibling modules, like ``career_oracle.py``); this script runs them in order.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pretraining_report import write_outputs
from pretraining_study import (
    BASELINES,
    LEVEL,
    ORACLE,
    REPO,
    SEEDS,
    Study,
    draw_panels,
    finetune,
    fit_references,
    machine,
    network_shape,
    panel_counts,
    pretrain,
    ratio_table,
    reference_losses,
    stage,
)

from laborseq import CareerPanel
from laborseq.evaluation.comparison import compare
from laborseq.synthetic import SyntheticCareers

DEFAULT_OUT = REPO / "reports" / "synthetic-pretraining"


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
    pretrained_only = model
    del resumes
    with stage(timings, "fine-tune"):
        model = finetune(pretrained_only, panels)

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
