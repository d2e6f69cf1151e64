"""Benchmark: Monte Carlo forecasts of a Markov chain, 5,000 persons x 1,000 samples x 5 years.

A synthetic panel of sticky careers over ``--states`` states (5,000 persons
observed 6 times each, 1990-1995) trains a Markov chain; the forecast from
origin 1995 simulates 1,000 paths per person for 1996-2000. The script prints
the wall time of

* the engine (``model.forecast``: the Markov stepper, vectorised over all paths),
* a plain per-person Python loop (the reference protocol ported literally: for
  each person and year, a validated ``CareerPanel`` of the person's 1,000
  sampled histories plus the target year, ``predict_proba``, the mean, and one
  draw per path), timed on ``--loop-persons`` persons and scaled up to all
  persons, and the ratio,
* the generic engine (:class:`~laborseq.models.stepper.PanelStepper`, which
  reruns ``predict_proba`` on the histories) on ``--loop-persons`` persons,
  scaled up,
* the exact method (``method="exact"``: propagated marginals, no sampling),

and the largest difference between the simulated and the exact p̄. Run from the
repository root::

    OMP_NUM_THREADS=1 .venv/bin/python analyses/bench_forecast_markov.py [--states 5] [--order 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import laborseq.forecast.result  # noqa: F401 - imported before timing
from laborseq import CareerPanel, OccupationScheme
from laborseq.forecast.simulate import sample_states
from laborseq.models import Markov
from laborseq.models.stepper import PanelStepper

ORIGIN = 1995


def synthetic_panel(n_persons: int, n_states: int, n_obs: int = 6, seed: int = 0) -> CareerPanel:
    """Sticky careers: stay with probability 0.8, else move to a state drawn from a skewed marginal."""
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(n_states, 0.5))
    state = rng.choice(n_states, size=n_persons, p=popularity)
    education = rng.choice(["high_school", "bachelors"], size=n_persons)
    frames = []
    for t in range(n_obs):
        frames.append(pd.DataFrame({"person_id": np.arange(n_persons), "year": 1990 + t, "state": state}))
        move = rng.random(n_persons) > 0.8
        state = np.where(move, rng.choice(n_states, size=n_persons, p=popularity), state)
    frame = pd.concat(frames, ignore_index=True)
    codes = [f"{i:03d}" for i in range(n_states)]
    frame["occ"] = np.asarray(codes)[frame["state"]]
    frame["education"] = np.tile(education, n_obs)
    scheme = OccupationScheme(name=f"synthetic{n_states}", codes=codes)
    return CareerPanel(frame.drop(columns="state"), covariates=["education"], scheme=scheme)


def plain_loop(model: Markov, panel: CareerPanel, years: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
    """The reference protocol, one person at a time: a validated panel of the person's sampled histories per year."""
    rng = np.random.default_rng(seed)
    data = panel.data
    classes = np.asarray(model.classes_)
    out = []
    for _, rows in data[data["year"] <= ORIGIN].groupby("person_id", sort=True):
        hist_years = rows["year"].to_numpy()
        hist_states = np.asarray([model.classes_.index(x) for x in rows["occ"]])
        sampled = np.zeros((n_samples, 0), dtype=int)
        pbar = []
        for h, year in enumerate(years):
            states = np.hstack([np.tile(hist_states, (n_samples, 1)), sampled, np.zeros((n_samples, 1), int)])
            width = states.shape[1]
            frame = pd.DataFrame(
                {
                    "person_id": np.repeat(np.arange(n_samples), width),
                    "year": np.tile(np.r_[hist_years, years[:h], year], n_samples),
                    "occ": classes[states.ravel()],
                    "education": rows["education"].iloc[-1],
                    "target": np.tile(np.arange(width) == width - 1, n_samples),
                }
            )
            probs = model.predict_proba(
                CareerPanel(frame, covariates=["education"], scheme=panel.scheme, target="target")
            )
            pbar.append(probs.mean(axis=0))
            sampled = np.hstack([sampled, sample_states(probs, rng.random(n_samples))[:, None]])
        out.append(pbar)
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=5)
    parser.add_argument("--states", type=int, default=5)
    parser.add_argument("--order", type=int, default=1, choices=(1, 2))
    parser.add_argument("--loop-persons", type=int, default=20)
    args = parser.parse_args()

    panel = synthetic_panel(args.persons, args.states)
    model = Markov(order=args.order).fit(panel)
    print(
        f"Markov order {args.order}, {args.states} states: {args.persons:,} persons x {args.samples:,} samples "
        f"x {args.horizon} years ({args.persons * args.samples * args.horizon:,} simulated person-years)"
    )

    start = time.perf_counter()
    sim = model.forecast(panel, origin=ORIGIN, horizon=args.horizon, n_samples=args.samples, rng=0)
    t_engine = time.perf_counter() - start
    print(f"  engine (Markov stepper)        {t_engine:8.2f} s")

    start = time.perf_counter()
    exact = model.forecast(panel, origin=ORIGIN, horizon=args.horizon, method="exact")
    t_exact = time.perf_counter() - start
    print(f"  exact marginals                {t_exact:8.2f} s")
    print(f"  max |p̄ simulated - exact|      {np.abs(sim.probabilities - exact.probabilities).max():8.4f}")

    subset = panel.select_persons(panel.persons[: args.loop_persons])
    scale = args.persons / args.loop_persons
    years = sim.years
    start = time.perf_counter()
    plain_loop(model, subset, years, args.samples, seed=0)
    t_loop = (time.perf_counter() - start) * scale
    print(f"  plain per-person loop (scaled) {t_loop:8.2f} s  ({args.loop_persons} persons x {scale:g})")

    start = time.perf_counter()
    past = subset.data["year"] <= ORIGIN
    history = CareerPanel._from_canonical(subset, subset.data[past], np.zeros(int(past.sum()), bool))
    stepper = PanelStepper(model, history, args.samples)
    covs = pd.DataFrame({"education": np.repeat(history.data.groupby("person_id")["education"].last(), args.samples)})
    covs = covs.reset_index(drop=True)
    gen = np.random.default_rng(0)
    for year in years:
        stepper.append(sample_states(stepper.step(int(year), covs), gen.random(len(covs))))
    t_generic = (time.perf_counter() - start) * scale
    print(f"  generic PanelStepper (scaled)  {t_generic:8.2f} s")
    print(f"  speed-up of the engine over the plain loop: {t_loop / t_engine:,.0f}x")


if __name__ == "__main__":
    main()
