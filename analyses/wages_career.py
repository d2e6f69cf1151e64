"""Do career representations improve wage models? Held-out log wages on nlswork and wage_panel.

For each bundled panel: persons are split 70/10/20 (seed 0, as in
``laborseq compare``); CAREER (``small`` preset) and the first-order Markov
chain are fitted on the training persons (validation persons passed for early
stopping). Their representations of every person-year enter
:func:`laborseq.studies.wages.wage_study` as "CAREER" (the hidden state), "one-hot
history" (Markov's previous state and shares of earlier states) and "previous
occupation" (the previous state alone), each reduced to at most 10 principal
components fitted on the training rows. The Mincer equation (log wage on
experience, its square, schooling, year and current-occupation dummies) is
estimated on the training persons by pooled OLS and random effects
(linearmodels, person-clustered standard errors), with and without each
representation's components, and predicts the test persons' log wages.

Prints the held-out RMSE and R-squared with 95% person-bootstrap intervals,
the paired differences, their breakdown by subgroup of test person-years
(first observed year, same occupation as the previous observation, changed
occupation; with each subgroup's share) that shows where the differences come
from, linearmodels' comparison of the in-sample pooled, random- and
fixed-effects fits with and without the CAREER components, and timings.
``--out DIR`` writes the wage report of every panel to ``DIR/<name>``.

Run from the repository root::

    .venv/bin/python analyses/wages_career.py [--data nlswork,wage_panel] [--out DIR]

Runtime and machine: 322 s (nlswork 238 s, of which 213 s fitting CAREER and
Markov and 24 s the wage study; wage_panel 84 s) on 2026-11-22 on a 2-core AMD
EPYC CPU (torch 2.13.0 CPU, no GPU), run under ``nice -n 19`` while another
job kept the cores busy (load average about 3.5); peak memory 0.85 GB.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import pandas as pd

from laborseq._util.environment import environment
from laborseq.datasets import load, load_wages
from laborseq.models import CAREER
from laborseq.panel import CareerPanel
from laborseq.report.wages import write_wage_report
from laborseq.studies.representations import one_hot_history, previous_occupation
from laborseq.studies.wage_tables import components_table, difference_table, heldout_table, subgroup_table
from laborseq.studies.wages import WageStudy, wage_study


def career_representations(panel: CareerPanel, train: CareerPanel, valid: CareerPanel) -> dict[str, pd.DataFrame]:
    """CAREER's hidden state, the one-hot history and the previous occupation, for every person-year."""
    career = CAREER.preset("small").fit(train, valid=valid, rng=0)
    history = one_hot_history(panel)
    return {
        "CAREER": career.representations(panel),
        "one-hot history": history,
        "previous occupation": previous_occupation(history),
    }


def print_study(study: WageStudy) -> None:
    """The study's tables and linearmodels' comparison of the in-sample fits."""
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", None):
        for title, table in (
            ("principal components", components_table(study)),
            ("held-out RMSE and R-squared", heldout_table(study)),
            ("with minus without representations", difference_table(study)),
            ("pooled OLS by subgroup of held-out person-years", subgroup_table(study)),
        ):
            print(f"\n{title}\n{table.to_string()}")
    print(f"\n{study.compare_summary()}")


def run(name: str, n_components: int, n_boot: int, out: Path | None) -> None:
    """Fit, score, print and optionally write one panel's wage study."""
    started = time.perf_counter()
    panel = load(name)
    wages = load_wages(name)
    train, valid, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
    print(
        f"\n=== {name}: {train.n_persons:,} training, {valid.n_persons:,} validation, {test.n_persons:,} test persons"
    )
    representations = career_representations(panel, train, valid)
    fitted = time.perf_counter()
    study = wage_study(train, test, wages, representations, n_components=n_components, n_boot=n_boot, rng=0)
    studied = time.perf_counter()
    print_study(study)
    if out is not None:
        command = shlex.join(["python", *sys.argv])
        paths = write_wage_report(study, out / name, title=f"Wages and career representations: {name}", command=command)
        print(f"report: {paths['html']}")
    print(
        f"{name}: {time.perf_counter() - started:.1f} s (representation models {fitted - started:.1f} s, "
        f"wage study {studied - fitted:.1f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="nlswork,wage_panel")
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="write each panel's wage report to OUT/<name>")
    args = parser.parse_args()
    machine = environment()
    print(f"machine: {machine['processor']}, {machine['cpus']} CPUs, torch {machine['torch']}, CUDA: {machine['cuda']}")
    total = time.perf_counter()
    for data in args.data.split(","):
        run(data, args.components, args.boot, args.out)
    print(f"total: {time.perf_counter() - total:.1f} s")
