"""Shared fixtures: small synthetic panels drawn from a known Markov process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from laborseq import CareerPanel, OccupationScheme

# The suite's torch models are tiny: one thread is faster than several competing for a busy CI machine.
torch.set_num_threads(1)

TINY_CAREER = {
    "n_layers": 1,
    "d_model": 16,
    "n_heads": 2,
    "d_ff": 32,
    "dropout": 0.0,
    "attn_dropout": 0.0,
    "lr": 1e-2,
    "max_tokens": 100_000,
}
"""A CAREER small enough for tests: one layer of width 16, no dropout, full-batch updates."""

STATES = ("11", "22", "33", "44", "unemployed")


def make_panel(n_persons: int = 300, seed: int = 0, weights: bool = False) -> CareerPanel:
    """Careers from a sticky Markov chain whose first state depends on education."""
    rng = np.random.default_rng(seed)
    k = len(STATES)
    transition = np.full((k, k), 0.05)
    np.fill_diagonal(transition, 0.8)
    transition /= transition.sum(axis=1, keepdims=True)
    rows = []
    for person in range(n_persons):
        race = rng.choice(["white", "black"])
        education = rng.choice(["high_school", "bachelors"])
        start = rng.integers(1990, 1995)
        years = start + np.sort(rng.choice(12, size=rng.integers(1, 8), replace=False))
        state = 0 if education == "bachelors" else rng.integers(0, k)
        for year in years:
            rows.append(
                {
                    "person_id": person + 1,
                    "year": int(year),
                    "occ": STATES[state],
                    "education": education,
                    "race": race,
                    "weight": float(rng.uniform(0.5, 2.0)),
                }
            )
            state = rng.choice(k, p=transition[state])
    frame = pd.DataFrame(rows)
    scheme = OccupationScheme(name="toy", codes=STATES[:4], status_tokens=STATES[4:])
    return CareerPanel(
        frame,
        covariates=["education", "race"],
        weight="weight" if weights else None,
        scheme=scheme,
        name="toy",
    )


@pytest.fixture(scope="session")
def toy_panel() -> CareerPanel:
    return make_panel()


@pytest.fixture(scope="session")
def toy_split(toy_panel: CareerPanel) -> tuple[CareerPanel, CareerPanel, CareerPanel]:
    return toy_panel.split_persons((0.6, 0.2, 0.2), rng=1)
