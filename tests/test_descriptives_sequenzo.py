"""The sequence descriptives on mvad against sequenzo's own computations (weighted and unweighted)."""

from __future__ import annotations

import numpy as np
import pytest

from laborseq.datasets import load_mvad
from laborseq.panel import descriptives

pytest.importorskip("sequenzo")

STATES = ["school", "FE", "HE", "training", "employment", "joblessness"]


@pytest.fixture(scope="module")
def both():
    from sequenzo import load_dataset
    from sequenzo.define_sequence_data import SequenceData

    raw = load_dataset("mvad")
    months = list(raw.columns[14:])
    sequences = SequenceData(raw, time=months, states=STATES, id_col="id", weights=raw["weight"].to_numpy())
    panel = load_mvad()
    assert list(panel.states) == STATES
    return panel, sequences


@pytest.mark.parametrize("weighted", [True, False])
def test_state_distribution_and_entropy_equal_sequenzos(both, weighted):
    from sequenzo.sequence_characteristics_indicators.overall_cross_sectional_entropy import (
        get_cross_sectional_entropy,
    )

    panel, sequences = both
    theirs = get_cross_sectional_entropy(sequences, weighted=weighted, return_format="wide")  # rounded to 1e-6
    ours = descriptives.state_distribution(panel, weights="weight" if weighted else None)
    np.testing.assert_allclose(ours.shares.to_numpy().T, np.asarray(theirs["Frequencies"], float), atol=1e-6)
    np.testing.assert_allclose(ours.entropy().to_numpy(), np.asarray(theirs["per_time_entropy_norm"], float), atol=1e-6)
    assert weighted == ours.weighted


@pytest.mark.parametrize("weighted", [True, False])
def test_mean_time_and_transition_rates_equal_sequenzos(both, weighted):
    from sequenzo.dissimilarity_measures.utils.get_sm_trate_substitution_cost_matrix import (
        get_sm_trate_substitution_cost_matrix,
    )
    from sequenzo.sequence_characteristics_indicators.cross_sectional_indicators import get_mean_time_in_states

    panel, sequences = both
    weights = "weight" if weighted else None
    theirs = get_mean_time_in_states(sequences, weighted=weighted)["Mean"].to_numpy()
    np.testing.assert_allclose(descriptives.mean_time_in_state(panel, weights)["mean_periods"], theirs, rtol=1e-10)
    rates = np.asarray(get_sm_trate_substitution_cost_matrix(sequences, weighted=weighted))[1:, 1:]  # (row 0: void)
    np.testing.assert_allclose(descriptives.transition_rates(panel, weights).rates.to_numpy(), rates, atol=1e-12)


def test_weights_matter_on_mvad(both):
    panel, _ = both
    weighted = descriptives.state_distribution(panel, weights="weight").shares
    unweighted = descriptives.state_distribution(panel).shares
    assert np.abs(weighted.to_numpy() - unweighted.to_numpy()).max() > 0.02


def test_to_sequenzo_keeps_gaps_as_missing_and_the_person_weights():
    from sequenzo.sequence_characteristics_indicators.overall_cross_sectional_entropy import (
        get_cross_sectional_entropy,
    )
    from test_descriptives import SCHEME, small_panel

    from laborseq import CareerPanel

    frame = small_panel().data.copy()
    frame["weight"] = frame["person_id"].map({1: 2.0, 2: 1.0, 3: 3.0})  # constant within person
    panel = CareerPanel(frame, covariates=["birth_year"], weight="weight", scheme=SCHEME)
    sequences = panel.to_sequenzo()
    theirs = get_cross_sectional_entropy(sequences, weighted=True, return_format="wide")["Frequencies"]
    assert list(theirs.columns) == ["2000", "2001", "2002", "2003"]
    observed = theirs.loc[list(panel.states)]  # sequenzo counts the unobserved as a category of its own
    ours = descriptives.state_distribution(panel, weights="weight").shares
    np.testing.assert_allclose((observed / observed.sum()).to_numpy().T, ours.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(np.asarray(sequences.weights, float), [2.0, 1.0, 3.0])
