"""Forecast nlswork careers from 1978 to 1988: per-horizon perplexity and projected against observed shares.

Run from the repository root::

    .venv/bin/python analyses/forecast_nlswork.py

It runs the study of ``laborseq forecast`` (:func:`laborseq.pipeline.run_forecast`)
on the NLS Young Women with the origin 1978 and
a 10-year horizon (the survey's waves 1980, 1982, 1983, 1985, 1987 and 1988),
for the Markov chains, the multinomial logit and CAREER (``small`` preset),
1,000 simulated careers per person, covariates held at their 1978 values, and
writes ``reports/nlswork-forecast/`` (report, ``results.json`` and the simulated
paths of every model).

Runtime and machine: 239 s on 2026-12-06 (326 s on 2026-11-22) on a 2-core AMD EPYC CPU (torch
2.13.0 CPU, 2 threads, no GPU); the report lists each model's fit and
simulation time.
"""

from __future__ import annotations

import time

from laborseq.datasets import load_nlswork
from laborseq.pipeline import run_forecast
from laborseq.report.forecast import write_forecast_report

MODELS = ["markov1", "markov2", "mnlogit", "career"]

if __name__ == "__main__":
    start = time.perf_counter()
    panel = load_nlswork()
    comparison = run_forecast(panel, MODELS, origin=1978, horizon=10, n_samples=1000, rng=0)
    write_forecast_report(comparison, panel, "reports/nlswork-forecast", command="analyses/forecast_nlswork.py")
    print(comparison.by_horizon().round(4).to_string())
    print(f"{time.perf_counter() - start:.1f} s wall")
