"""Benchmark: CAREER forecasts, 5 years x 1,000 samples x 5,000 persons, against a per-person loop.

The model is the paper-size CAREER (12 layers, width 192, 3 heads, FFN 768)
over the 330 occ1990dd codes plus unemployment, fitted for ``--fit-steps``
updates on synthetic survey-like careers. How well it is trained matters:
laborseq decodes each distinct simulated prefix once, and a fitted model, like
real careers, keeps most paths in their occupation, so samples share prefixes
(an untrained, near-uniform model is the worst case). The benchmark prints the
model's perplexity and how many distinct prefixes each year had. Persons are
forecast 5 years past their last observation with 1,000 simulated careers each:

* **laborseq**: ``model.forecast``; the history runs once per person and each
  simulated year is one token per distinct prefix (incremental decoding over a
  prefix tree, batched over persons);
* **reference-style loop**: for each person and each year, the whole history
  of all 1,000 samples is rerun through the network, the distributions are
  averaged and the next states sampled, one person at a time (as the CAREER
  forecasting script does), timed on ``--loop-persons`` persons and scaled up.

Run from the repository root::

    .venv/bin/python analyses/bench_forecast_career.py [--persons 5000] [--loop-persons 5] [--preset paper]

Prints both times, the ratio, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from laborseq.models import CAREER
from laborseq.nn.encoding import EncodedPanel
from laborseq.panel import CareerPanel
from laborseq.synthetic import SyntheticCareers


def per_person_loop(model: CAREER, history: CareerPanel, n_years: int, n_samples: int, seed: int = 0) -> float:
    """The reference's forecast: per person, rerun every sample's whole history each year. Returns seconds."""
    net, vocab = model.net_.eval(), model.vocabulary_
    gen = np.random.default_rng(seed)
    data = vocab.encode(history)
    started = time.perf_counter()
    for person in range(len(data.lengths())):
        rows = slice(data.offsets[person], data.offsets[person + 1])
        states = np.tile(data.states[rows], (n_samples, 1))
        codes = np.tile(data.codes[rows], (n_samples, 1, 1))
        for _ in range(n_years):
            length = states.shape[1]
            batch = EncodedPanel(
                offsets=np.arange(n_samples + 1) * (length + 1),
                states=np.concatenate([states, np.zeros((n_samples, 1), dtype=np.int64)], axis=1).ravel(),
                codes=np.concatenate([codes, codes[:, -1:]], axis=1).reshape(-1, codes.shape[-1]),
                weight=np.ones(n_samples * (length + 1), dtype=np.float32),
                n_states=data.n_states,
            ).collate(np.arange(n_samples))
            with torch.no_grad():
                proba = net.log_probs(batch)[:, -1].exp().double().numpy()
            proba /= proba.sum(axis=1, keepdims=True)
            _ = proba.mean(axis=0)  # p̄ of this year
            draws = (proba.cumsum(axis=1) < gen.random((n_samples, 1))).sum(axis=1).clip(max=data.n_states - 1)
            states = np.concatenate([states, draws[:, None]], axis=1)
            codes = np.concatenate([codes, codes[:, -1:]], axis=1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--loop-persons", type=int, default=5)
    parser.add_argument("--preset", default="paper", choices=("paper", "small"))
    parser.add_argument("--fit-steps", type=int, default=60, help="updates of the model before forecasting")
    parser.add_argument("--loop-only", action="store_true", help="time the per-person loop only (re-timing it)")
    args = parser.parse_args()

    process = SyntheticCareers(seed=0)
    panel = process.sample(args.persons, population="survey", rng=1)
    steps = args.fit_steps
    model = CAREER.preset(
        args.preset, max_steps=steps, warmup_steps=min(10, steps), lr=1e-3, max_tokens=4_000, device="cpu"
    ).fit(panel, rng=0)
    last_year = int(panel.years.max())
    years = list(range(last_year + 1, last_year + 1 + args.years))
    print(f"{panel}; {model.n_parameters:,} parameters, {steps} updates, perplexity {model.perplexity(panel):.2f}")
    print(f"forecast {years[0]}-{years[-1]}, {args.samples:,} samples")

    # the loop runs first, on the persons' histories up to the origin, so that both timings see the same machine
    history, _ = panel.split_at_year(last_year)
    subset = history.select_persons(history.persons[: args.loop_persons])
    loop = per_person_loop(model, subset, len(years), args.samples)
    print(f"per-person loop: {args.loop_persons} persons in {loop:.1f} s", flush=True)
    if args.loop_only:
        return

    started = time.perf_counter()
    result = model.forecast(panel, origin=last_year, years=years, n_samples=args.samples, rng=0)
    batched = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"laborseq: {result.n_persons:,} persons x {args.samples:,} samples x {len(years)} years in {batched:.1f} s")
    paths = result.paths.reshape(-1, len(years))
    owner = np.repeat(np.arange(result.n_persons), args.samples)[:, None]
    distinct = [len(np.unique(np.hstack([owner, paths[:, :h]]), axis=0)) for h in range(len(years))]
    print(f"distinct prefixes decoded per year: {distinct} of {len(paths):,} paths")
    scaled = loop / args.loop_persons * result.n_persons
    print(f"per-person loop scaled to {result.n_persons:,} persons: {scaled:.0f} s")
    threads = torch.get_num_threads()
    print(f"ratio: laborseq is {scaled / batched:.1f}x faster; peak RSS {peak_gb:.2f} GB; {threads} torch threads")


if __name__ == "__main__":
    main()
