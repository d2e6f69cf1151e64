"""Career representations: one-hot histories (a function of the panel), CAREER's hidden states."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TINY_CAREER, make_panel

from laborseq.models import CAREER
from laborseq.studies.representations import one_hot_history, previous_occupation


@pytest.fixture(scope="module")
def panel():
    return make_panel(n_persons=120, seed=5)


@pytest.fixture(scope="module")
def career(panel):
    return CAREER(**TINY_CAREER, max_steps=5, warmup_steps=1).fit(panel, rng=0)


def test_one_hot_history_is_the_previous_state_and_shares_of_earlier_states(panel):
    reps = one_hot_history(panel)
    k = len(panel.states)
    assert reps.shape == (len(panel), 2 * k)
    assert list(reps.index.names) == ["person_id", "year"]
    np.testing.assert_array_equal(reps.index.get_level_values("year"), panel.data["year"].to_numpy())
    previous = panel.lagged_states(1)
    prev = reps.filter(like="prev=").to_numpy()
    first = previous < 0
    assert (prev[first] == 0).all()
    np.testing.assert_array_equal(prev[~first].argmax(axis=1), previous[~first])
    share = reps.filter(like="share=").to_numpy()
    np.testing.assert_allclose(share[~first].sum(axis=1), 1.0)
    # by hand for one person with several rows
    data = panel.data
    person = data["person_id"].value_counts().idxmax()
    rows = np.flatnonzero(data["person_id"].to_numpy() == person)
    states = panel.state_index()[rows]
    for j in range(1, len(rows)):
        expected = np.bincount(states[:j], minlength=k) / j
        np.testing.assert_allclose(share[rows[j]], expected)
    assert previous_occupation(reps).columns.tolist() == [f"prev={s}" for s in panel.states]
    with pytest.raises(ValueError, match="prev="):
        previous_occupation(reps.filter(like="share="))


def test_career_representations_feed_its_head(career, panel):
    reps = career.representations(panel)
    assert reps.shape == (len(panel), TINY_CAREER["d_model"])
    net = career.net_.eval()
    hidden = torch.as_tensor(reps.to_numpy()[panel.target_mask])
    prev = torch.as_tensor(panel.lagged_states(1)[panel.target_mask], dtype=torch.long)  # -1: first year
    with torch.no_grad():
        log_probs = net.output_log_probs(net.head(hidden), prev)
    np.testing.assert_allclose(log_probs.exp().numpy(), career.predict_proba(panel), atol=1e-5)


def test_career_representations_do_not_look_ahead(career, panel):
    """The row of year t is unchanged when the person's later years are cut off or altered."""
    reps = career.representations(panel)
    counts = panel.data["person_id"].value_counts()
    person = counts.index[counts >= 4][0]
    rows = panel.data.index[panel.data["person_id"] == person]
    cut_year = panel.data.loc[rows[1], "year"]
    frame = panel.data[(panel.data["person_id"] != person) | (panel.data["year"] <= cut_year)]
    from laborseq import CareerPanel

    shorter = CareerPanel(frame, covariates=list(panel.covariates), scheme=panel.scheme)
    again = career.representations(shorter)
    for year in panel.data.loc[rows[:2], "year"]:
        np.testing.assert_allclose(again.loc[(person, year)], reps.loc[(person, year)], atol=1e-5)
