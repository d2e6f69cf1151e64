"""Benchmark: the logits and bag-of-jobs fits, laborseq's solvers against references in the same run.

* ``mnlogit`` and ``mnlogit_two_stage`` (the registry's models: full features,
  L2 penalty 1e-4) on nlswork's training persons (the 70/10/20 person split of
  ``laborseq compare``, seed 0): the default solver (``"auto"``: trust-region
  Newton-CG on the dense design) against L-BFGS (the earlier default, same
  objective, same tolerance), and, for the unpenalised one-stage model, the
  torch engine against statsmodels' ``MNLogit`` Newton (its reference
  implementation), on wage_panel (on nlswork statsmodels finds no finite
  unpenalised MLE whatever the features: rare occupations separate). Each
  prints fit seconds, the final objective (penalised mean negative
  log-likelihood), whether it converged, and the test perplexity.
* ``mnlogit`` forecasts on nlswork (fitted on the years up to 1980, every
  person forecast in the survey years 1982-1988, 1,000 samples each, as the
  forecast section of ``laborseq compare``): the incremental stepper
  (features updated year by year) against the generic stepper that rebuilds
  the features from whole histories (the earlier path), same draws.
* ``bag_of_jobs`` on 14,000 synthetic survey-like persons over 40 states
  (``SyntheticCareers(n_occupations=39)``): the registry's model, which
  computes the covariates' effects once per distinct combination and fits its
  first-year logit on distinct feature rows, against the same fit with every
  row its own (the earlier path; the same numbers).

Run from the repository root::

    .venv/bin/python analyses/bench_logits.py [--parts nlswork,forecast,bag] [--bag-persons 14000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from laborseq.datasets import load_nlswork, load_wage_panel
from laborseq.models import MNLogit, SequenceModel, make_model
from laborseq.models.features import EncodedFeatures
from laborseq.synthetic import SyntheticCareers


def timed_fit(model, train, **kwargs):
    """Fit ``model`` on ``train``; return it and the seconds it took."""
    started = time.perf_counter()
    model.fit(train, **kwargs)
    return model, time.perf_counter() - started


def report(label: str, model, seconds: float, test) -> None:
    info = getattr(model, "fit_info_", {})
    objective = info.get("objective")
    detail = (
        f"objective {objective:.12f}, {info.get('iterations')} iterations, converged {info.get('converged')}"
        if objective is not None
        else f"{info.get('epochs')} epochs (best {info.get('best_epoch')})"
    )
    print(f"  {label:<38} {seconds:7.2f} s  {detail}; test perplexity {model.perplexity(test):.4f}", flush=True)


def nlswork() -> None:
    panel = load_nlswork()
    train, valid, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
    print(f"nlswork: {train.n_persons:,} training persons, {len(train):,} person-years")
    for name in ("mnlogit", "mnlogit_two_stage"):
        print(name)
        fast, fast_s = timed_fit(make_model(name), train, valid=valid, rng=0)
        report("laborseq (solver='auto': Newton-CG)", fast, fast_s, test)
        slow, slow_s = timed_fit(make_model(name, solver="lbfgs"), train, valid=valid, rng=0)
        report("reference: L-BFGS (the earlier default)", slow, slow_s, test)
        print(f"  ratio: {slow_s / fast_s:.1f}x faster")
    wage_train, _, wage_test = load_wage_panel().split_persons((0.7, 0.1, 0.2), rng=0)
    features = ("years_in_state", "years_observed", "static")
    print(f"mnlogit, unpenalised, one-stage, on wage_panel with features {features}")
    print("  (statsmodels finds no finite MLE on nlswork: rare occupations separate there, whatever the features)")
    ours, ours_s = timed_fit(MNLogit(features=features), wage_train, rng=0)
    report("laborseq torch engine", ours, ours_s, wage_test)
    ref, ref_s = timed_fit(MNLogit(features=features, engine="statsmodels"), wage_train, rng=0)
    report("reference: statsmodels MNLogit Newton", ref, ref_s, wage_test)
    gap = abs(ours.model_.flat_parameters() - ref.model_.flat_parameters()).max()
    print(f"  ratio: {ref_s / ours_s:.2f} (statsmodels seconds / laborseq seconds); max |coefficient diff| {gap:.1e}")


def forecast() -> None:
    panel = load_nlswork()
    history, _ = panel.split_at_year(1980)
    train, valid = history.split_persons((0.9, 0.1), rng=0)
    model = make_model("mnlogit").fit(train, valid=valid, rng=0)
    years = [1982, 1983, 1985, 1987, 1988]
    started = time.perf_counter()
    fast = model.forecast(panel, origin=1980, years=years, n_samples=1_000, rng=0)
    fast_s = time.perf_counter() - started
    print(f"mnlogit forecast: {fast.n_persons:,} persons x 1,000 samples, years {years}")
    print(f"  laborseq (incremental features)          {fast_s:7.2f} s")
    model._stepper = lambda history, n_samples: SequenceModel._stepper(model, history, n_samples)
    started = time.perf_counter()
    slow = model.forecast(panel, origin=1980, years=years, n_samples=1_000, rng=0)
    slow_s = time.perf_counter() - started
    same = bool((fast.paths == slow.paths).all())
    gap = float(abs(fast.probabilities - slow.probabilities).max())
    print(f"  reference: generic stepper               {slow_s:7.2f} s  (same paths: {same}; max |p diff| {gap:.1e})")
    print(f"  ratio: {slow_s / fast_s:.1f}x faster")


def bag(n_persons: int) -> None:
    panel = SyntheticCareers(seed=0, n_occupations=39).sample(n_persons, population="survey", rng=1)
    train, valid, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
    print(f"bag_of_jobs: {n_persons:,} synthetic persons, {panel.scheme.n_states} states, {len(train):,} training rows")
    fast, fast_s = timed_fit(make_model("bag_of_jobs"), train, valid=valid, rng=0)
    report("laborseq (registry bag_of_jobs)", fast, fast_s, test)
    distinct = EncodedFeatures.distinct
    EncodedFeatures.distinct = lambda self: (np.arange(len(self)), np.arange(len(self)))  # no rows merged
    try:
        slow, slow_s = timed_fit(make_model("bag_of_jobs"), train, valid=valid, rng=0)
    finally:
        EncodedFeatures.distinct = distinct
    report("reference: every row its own features", slow, slow_s, test)
    print(f"  ratio: {slow_s / fast_s:.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="nlswork,forecast,bag")
    parser.add_argument("--bag-persons", type=int, default=14_000)
    args = parser.parse_args()
    parts = args.parts.split(",")
    if "nlswork" in parts:
        nlswork()
    if "forecast" in parts:
        forecast()
    if "bag" in parts:
        bag(args.bag_persons)


if __name__ == "__main__":
    main()
