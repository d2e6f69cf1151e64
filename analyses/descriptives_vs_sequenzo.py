"""laborseq's sequence descriptives on mvad against sequenzo's own, weighted and unweighted.

Run from the repository root (needs ``pip install 'laborseq[sequences]'``)::

    .venv/bin/python analyses/descriptives_vs_sequenzo.py

Builds sequenzo's ``SequenceData`` from the ``mvad`` it ships and laborseq's
panel from the same file (:func:`laborseq.datasets.load_mvad`), then prints, for
each statistic and weighting, the largest absolute difference between the two:
the state distribution by month and the normalised transversal entropy
(sequenzo's ``get_cross_sectional_entropy``, which rounds to six decimals), the
mean time in each state (``get_mean_time_in_states``) and the transition rates
(the ``TRATE`` matrix of ``get_sm_trate_substitution_cost_matrix``), with the
seconds each side took for the four statistics of one weighting.
``tests/test_descriptives_sequenzo.py`` asserts the same.
"""

from __future__ import annotations

import contextlib
import io
import time

import numpy as np
from sequenzo import load_dataset
from sequenzo.define_sequence_data import SequenceData
from sequenzo.dissimilarity_measures.utils.get_sm_trate_substitution_cost_matrix import (
    get_sm_trate_substitution_cost_matrix,
)
from sequenzo.sequence_characteristics_indicators.cross_sectional_indicators import get_mean_time_in_states
from sequenzo.sequence_characteristics_indicators.overall_cross_sectional_entropy import get_cross_sectional_entropy

from laborseq.datasets import load_mvad
from laborseq.panel import descriptives


def main() -> None:
    raw = load_dataset("mvad")
    panel = load_mvad()
    with contextlib.redirect_stdout(io.StringIO()):  # sequenzo prints summaries
        sequences = SequenceData(
            raw, time=list(raw.columns[14:]), states=list(panel.states), id_col="id", weights=raw["weight"].to_numpy()
        )
    print(f"{'statistic':<22} {'weights':<11} {'max |difference|':>17} {'laborseq s':>11} {'sequenzo s':>11}")
    for weighted in (True, False):
        w = "weight" if weighted else None
        label = "weighted" if weighted else "unweighted"
        started = time.perf_counter()
        dist = descriptives.state_distribution(panel, weights=w)
        ours_time = descriptives.mean_time_in_state(panel, w)["mean_periods"].to_numpy()
        ours_rates = descriptives.transition_rates(panel, w).rates.to_numpy()
        ours_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            theirs = get_cross_sectional_entropy(sequences, weighted=weighted, return_format="wide")
            their_time = get_mean_time_in_states(sequences, weighted=weighted)["Mean"].to_numpy()
            their_rates = np.asarray(get_sm_trate_substitution_cost_matrix(sequences, weighted=weighted))[1:, 1:]
        their_seconds = time.perf_counter() - started
        rows = {
            "state distribution": np.abs(dist.shares.to_numpy().T - np.asarray(theirs["Frequencies"], float)).max(),
            "entropy": np.abs(dist.entropy().to_numpy() - np.asarray(theirs["per_time_entropy_norm"], float)).max(),
            "mean time in state": np.abs(ours_time - their_time).max(),
            "transition rates": np.abs(ours_rates - their_rates).max(),
        }
        for name, diff in rows.items():
            print(f"{name:<22} {label:<11} {diff:>17.2e} {ours_seconds:>11.3f} {their_seconds:>11.3f}")


if __name__ == "__main__":
    main()
