"""How close to the truth? Each model's test perplexity divided by the oracle's, on synthetic survey panels.

The synthetic process (:class:`laborseq.synthetic.SyntheticCareers`, seed 0, 330
occ1990dd codes plus unemployment, 4 latent types) knows its own likelihood,
so the oracle perplexity (the true conditional distributions, latent types
marginalised by forward filtering) is the floor no model can beat in
expectation. For each panel size, a survey-like panel is drawn, split by
person 70/10/20 (seed 0), every model is fitted on the training persons (the
validation persons for early stopping) and scored on the test persons. Run
from the repository root::

    .venv/bin/python analyses/career_oracle.py [--persons 10000,100000] [--models markov1,markov2,mnlogit,career]

Prints, per panel size, the perplexity of every model over all test
person-years and over transitions only, its ratio to the oracle with a 95%
person-bootstrap interval (paired: the same persons resampled for the model
and the oracle), and the fit time. The logit's L-BFGS is capped at ``--mnlogit-iter`` iterations
(300 by default; the registry's 1,000 take hours at 100,000 persons on 330 states). ``career`` is the
registry's, the ``auto`` recipe (two ``small`` networks with recall mixed with bag-of-jobs at these 331 states);
``analyses/career_recipe.py --synthetic N`` draws the same panel and split and measures each ingredient.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from laborseq.evaluation.comparison import ComparisonResult, compare
from laborseq.models import MNLogit, SequenceModel, TrueProcessModel, make_model
from laborseq.panel import PERSON
from laborseq.synthetic import SyntheticCareers


def oracle_ratios(result: ComparisonResult, oracle: str, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Perplexity of every model divided by the oracle's, with paired person-bootstrap 95% intervals."""
    persons = pd.factorize(result.targets[PERSON])[0]
    n_persons = persons.max() + 1
    is_transition = ~result.targets["is_first"].to_numpy()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_persons, np.full(n_persons, 1 / n_persons), size=n_boot).astype(float)
    rows = {}
    for name, ll in result.log_likelihoods.items():
        row = {}
        for subset, mask in (("all", np.ones_like(is_transition)), ("transitions", is_transition)):
            gap = np.bincount(persons[mask], (result.log_likelihoods[oracle] - ll)[mask], minlength=n_persons)
            count = np.bincount(persons[mask], minlength=n_persons).astype(float)
            row[f"ratio_{subset}"] = float(np.exp(gap.sum() / count.sum()))
            boot = np.exp((draws @ gap) / (draws @ count))
            row[f"ratio_{subset}_ci"] = tuple(np.quantile(boot, [0.025, 0.975]).round(4).tolist())
        rows[name] = row
    return pd.DataFrame(rows).T


def baseline(name: str, max_iter: int) -> SequenceModel:
    """The registry's model, with the logit's L-BFGS iterations capped (330 states make each one costly)."""
    if name == "mnlogit":
        return MNLogit(features="full", alpha=1e-4, max_iter=max_iter)
    return make_model(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", default="10000,100000")
    parser.add_argument("--models", default="markov1,markov2,mnlogit,bag_of_jobs,career")
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--mnlogit-iter", type=int, default=300, help="L-BFGS iterations of the logit")
    args = parser.parse_args()
    process = SyntheticCareers(seed=0)
    report = {}
    for n in (int(x) for x in args.persons.split(",")):
        started = time.perf_counter()
        panel = process.sample(n, population="survey", rng=1)
        train, valid, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
        models = {"oracle": TrueProcessModel.from_process(process, population="survey")}
        models.update({name: baseline(name, args.mnlogit_iter) for name in args.models.split(",")})
        result = compare(models, train, test, valid=valid, rng=0, n_boot=args.n_boot, progress=True)
        ratios = oracle_ratios(result, "oracle", n_boot=args.n_boot)
        table = result.table()[["perplexity", "transitions", "fit_seconds"]].rename(
            columns={"transitions": "perplexity_transitions"}
        )
        table = table.join(ratios)
        print(
            f"\n{n:,} survey-like persons ({len(panel):,} person-years; test: {result.n_test_persons:,} persons, "
            f"{len(result.targets):,} targets), {time.perf_counter() - started:.0f} s"
        )
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.round(4).to_string())
        report[n] = json.loads(table.to_json(orient="index"))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
