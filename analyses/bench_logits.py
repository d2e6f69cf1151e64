"""Benchmark: the logits and bag-of-jobs fits, laborseq's solvers against references in the same run.

* ``mnlogit`` and ``mnlogit_two_stage`` (the registry's models: full features,
  L2 penalty 1e-4) on nlswork's training persons (the 70/10/20 person split of
  ``laborseq compare``, seed 0): the default solver (``"auto"``: trust-region
  Newton-CG on the dense design) against L-BFGS (the earlier default, same
  objective, same tolerance), and, for the unpenalised one-stage model, the
  torch engine against statsmodels' ``MNLogit`` Newton (its reference
  implementation). Each prints fit seconds, the final objective (penalised mean
  negative log-likelihood), whether it converged, and the test perplexity.
* ``bag_of_jobs`` on 14,000 synthetic survey-like persons over 40 states
  (``SyntheticCareers(n_occupations=39)``): the registry's model against the
  same model in float64 (the earlier default) with its earlier epoch budget.

Run from the repository root::

    .venv/bin/python analyses/bench_logits.py [--parts nlswork,bag] [--bag-persons 14000]
"""

from __future__ import annotations

import argparse
import time

from laborseq.datasets import load_nlswork
from laborseq.models import BagOfJobs, MNLogit, make_model
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
    print("mnlogit, unpenalised, one-stage")
    ours, ours_s = timed_fit(MNLogit(features="full"), train, rng=0)
    report("laborseq torch engine", ours, ours_s, test)
    ref, ref_s = timed_fit(MNLogit(features="full", engine="statsmodels"), train, rng=0)
    report("reference: statsmodels MNLogit Newton", ref, ref_s, test)
    print(f"  ratio: {ref_s / ours_s:.2f} (statsmodels seconds / laborseq seconds)")


def bag(n_persons: int) -> None:
    panel = SyntheticCareers(seed=0, n_occupations=39).sample(n_persons, population="survey", rng=1)
    train, valid, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
    print(f"bag_of_jobs: {n_persons:,} synthetic persons, {panel.scheme.n_states} states, {len(train):,} training rows")
    fast, fast_s = timed_fit(make_model("bag_of_jobs"), train, valid=valid, rng=0)
    report("laborseq (registry bag_of_jobs)", fast, fast_s, test)
    slow, slow_s = timed_fit(BagOfJobs(dtype="float64", lr=0.05, max_epochs=500), train, valid=valid, rng=0)
    report("reference: float64, the earlier schedule", slow, slow_s, test)
    print(f"  ratio: {slow_s / fast_s:.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="nlswork,bag")
    parser.add_argument("--bag-persons", type=int, default=14_000)
    args = parser.parse_args()
    parts = args.parts.split(",")
    if "nlswork" in parts:
        nlswork()
    if "bag" in parts:
        bag(args.bag_persons)


if __name__ == "__main__":
    main()
