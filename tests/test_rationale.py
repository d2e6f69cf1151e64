"""Word dropout and greedy rationalization of CAREER predictions."""

from __future__ import annotations

import itertools
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_CAREER

from laborseq import CareerPanel, OccupationScheme
from laborseq.models import CAREER
from laborseq.nn import career_net
from laborseq.nn.career_net import CareerNet, CareerNetConfig, career_loss, word_dropout_keys
from laborseq.nn.rationale import greedy_rationale, rank_of
from laborseq.nn.transformer import DecoderConfig, key_subset_mask
from laborseq.studies.rationales import (
    START,
    Rationale,
    rationale_targets,
    rationalize,
    rationalize_many,
    summarize_rationales,
)

CODES = tuple(f"{i}{i}" for i in range(1, 9))


def boomerang_panel(n_persons: int = 400, seed: int = 0) -> CareerPanel:
    """Careers ``A, A, ..., unemployed, A``: after unemployment everyone returns to their first job ``A``.

    Given the unemployment spell alone, the job after it is any of eight;
    given any earlier year, it is certain. A greedy rationale of the return
    must therefore add one of the earlier jobs, not the start of the career.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(1, n_persons + 1):
        job = CODES[rng.integers(len(CODES))]
        before = int(rng.integers(1, 4))
        sequence = [job] * before + ["unemployed", job]
        start = int(rng.integers(1990, 1995))
        rows += [{"person_id": person, "year": start + t, "occ": occ} for t, occ in enumerate(sequence)]
    scheme = OccupationScheme(name="boomerang", codes=CODES, status_tokens=("unemployed",))
    return CareerPanel(pd.DataFrame(rows), scheme=scheme, name="boomerang")


def tiny_net(n_states: int = 5, seed: int = 0, two_stage: bool = True, recall: bool = False) -> CareerNet:
    torch.manual_seed(seed)
    decoder = DecoderConfig(n_layers=2, d_model=16, n_heads=2, d_ff=32, dropout=0.0, attn_dropout=0.0)
    config = CareerNetConfig(n_states=n_states, input_sizes=(4, 3), decoder=decoder, two_stage=two_stage, recall=recall)
    return CareerNet(config).eval()


def one_person_batch(states: list[int], n_states: int = 5, seed: int = 0) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    length = len(states)
    prev = np.array([-1, *states[:-1]])
    return {
        "inputs": torch.as_tensor(np.where(prev >= 0, prev, n_states))[None],
        "prev": torch.as_tensor(prev)[None],
        "targets": torch.as_tensor(states)[None],
        "covariates": torch.as_tensor(rng.integers(1, 3, size=(1, length, 2))),
        "weight": torch.ones(1, length),
        "rows": torch.arange(length)[None],
    }


def subset_prediction(net: CareerNet, batch: dict[str, torch.Tensor], target: int, subset: list[int]) -> np.ndarray:
    """Distribution at ``target`` from the network run on the positions ``subset`` alone (original positions)."""
    keep = sorted(subset)
    index = torch.as_tensor(keep)
    with torch.no_grad():
        hidden = net.hidden(
            batch["inputs"][:, index], batch["covariates"][:, index], positions=index[None].expand(1, -1)
        )
        logits = net.head(hidden[:, -1:])
        recall = None
        if net.config.recall:  # the kept jobs, weighted by their distance to the target in the whole career
            recall = torch.zeros(1, 1, net.config.n_states)
            for position in keep:
                token = int(batch["inputs"][0, position])
                if token < net.config.n_states:
                    recall[0, 0, token] += torch.exp(-net.decay() * (target - position))
        log_probs = net.output_log_probs(logits, batch["prev"][:, target : target + 1], recall)
        return log_probs[0, 0].exp().double().numpy()


# ---------------------------------------------------------------------------------------------- masks


def test_key_subset_mask_is_causal_kept_keys_and_the_diagonal():
    keep = torch.tensor([[True, False, True, False]])
    mask = key_subset_mask(keep)[0, 0].numpy()
    expected = np.zeros((4, 4), bool)
    for q, k in itertools.product(range(4), range(4)):
        expected[q, k] = k <= q and (k in (0, 2) or k == q)
    np.testing.assert_array_equal(mask, expected)


def test_masking_keys_equals_running_the_subset_alone():
    net = tiny_net()
    batch = one_person_batch([0, 1, 1, 2, 3, 1])
    target = 5
    for subset in ([5], [0, 5], [2, 3, 5], [0, 1, 2, 3, 4, 5]):
        keep = torch.zeros(1, target + 1, dtype=torch.bool)
        keep[0, subset] = True
        with torch.no_grad():
            hidden = net.hidden(batch["inputs"], batch["covariates"], key_subset_mask(keep))
            masked = net.output_log_probs(net.head(hidden[:, target : target + 1]), batch["prev"][:, target:])
        np.testing.assert_allclose(masked[0, 0].exp().numpy(), subset_prediction(net, batch, target, subset), atol=1e-6)


def test_keeping_every_key_equals_the_causal_network():
    net = tiny_net()
    batch = one_person_batch([0, 1, 1, 2, 3])
    with torch.no_grad():
        causal = net(batch["inputs"], batch["covariates"])
        masked = net(batch["inputs"], batch["covariates"], key_subset_mask(torch.ones(1, 5, dtype=torch.bool)))
    torch.testing.assert_close(masked, causal)


# ---------------------------------------------------------------------------------------------- word dropout


def test_word_dropout_subset_sizes_are_uniform():
    torch.manual_seed(0)
    length, draws = 4, 5_000
    sizes = np.array([int(word_dropout_keys(length).sum()) for _ in range(draws)])
    counts = np.bincount(sizes, minlength=length + 1)
    expected = draws / (length + 1)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 18.5  # 99.9% quantile of chi-squared with 4 degrees of freedom


def test_word_dropout_loss_uses_the_drawn_subset_in_training_only(monkeypatch):
    net = tiny_net()
    batch = one_person_batch([0, 1, 1, 2, 3, 1])
    with torch.no_grad():
        full = career_loss(net, batch)[0]
        assert career_loss(net, batch, word_dropout=1.0)[0] == full  # evaluation mode sees everything
        net.train()
        monkeypatch.setattr(career_net, "word_dropout_keys", lambda length, device: torch.ones(1, length, dtype=bool))
        torch.testing.assert_close(career_loss(net, batch, word_dropout=1.0)[0], full)
        monkeypatch.setattr(career_net, "word_dropout_keys", lambda length, device: torch.zeros(1, length, dtype=bool))
        alone = career_loss(net, batch, word_dropout=1.0)[0]
    net.eval()
    # every position sees only itself: the loss is a sum of one-position networks
    expected = -sum(np.log(subset_prediction(net, batch, t, [t])[int(batch["targets"][0, t])]) for t in range(6))
    assert float(alone) == pytest.approx(expected, rel=1e-5)
    assert float(alone) != pytest.approx(float(full), rel=1e-3)


def test_word_dropout_must_be_a_probability(toy_split):
    with pytest.raises(ValueError, match="word_dropout"):
        CAREER(**TINY_CAREER, max_steps=1, word_dropout=1.5).fit(toy_split[0])


def test_finetune_word_dropout_returns_a_fine_tuned_copy(toy_split):
    train, valid, _ = toy_split
    model = CAREER(**TINY_CAREER, max_steps=5, warmup_steps=1).fit(train, rng=0)
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    tuned = model.finetune_word_dropout(train, valid=valid, rng=0, max_steps=3)
    assert tuned is not model and tuned.word_dropout == 0.5 and model.word_dropout == 0.0
    assert tuned.training_["stage"] == "fine-tune" and tuned.training_["steps"] <= 3
    for key, value in model.net_.state_dict().items():
        torch.testing.assert_close(value, before[key])  # the original is untouched
    assert any(not torch.equal(v, before[k]) for k, v in tuned.net_.state_dict().items())


# ---------------------------------------------------------------------------------------------- greedy search


@pytest.mark.parametrize("recall", [False, True])
def test_greedy_search_takes_the_best_position_at_every_step(recall):
    net = tiny_net(seed=3, recall=recall)
    states = [0, 2, 1, 1, 3, 2, 4, 0]
    batch = one_person_batch(states, seed=1)
    target = 7
    observed = states[target]
    search = greedy_rationale(net, batch, target, top=1)
    assert search.added[0] == target
    chosen = [target]
    for step, position in enumerate(search.added[1:], start=1):
        options = [p for p in range(target + 1) if p not in chosen]
        by_hand = {p: subset_prediction(net, batch, target, [*chosen, p]) for p in options}
        best = max(options, key=lambda p: by_hand[p][observed])
        assert position == best
        np.testing.assert_allclose(search.probabilities[step], by_hand[best], atol=1e-6)
        chosen.append(position)
    ranks = search.ranks
    assert (ranks[:-1] > 1).all()  # it stops at the first step that reaches the top
    assert ranks[-1] == 1 or len(search.added) == target + 1
    np.testing.assert_allclose(search.full, subset_prediction(net, batch, target, list(range(target + 1))), atol=1e-6)


def test_a_generous_top_stops_at_the_most_recent_job():
    net = tiny_net()
    batch = one_person_batch([0, 1, 2, 3])
    search = greedy_rationale(net, batch, 3, top=5)
    assert list(search.added) == [3] and search.reached


def test_greedy_search_checks_its_target():
    net = tiny_net()
    batch = one_person_batch([0, 1, 2])
    with pytest.raises(ValueError, match="target position"):
        greedy_rationale(net, batch, 0)
    with pytest.raises(ValueError, match="target position"):
        greedy_rationale(net, batch, 3)


def test_rank_counts_strictly_more_likely_states():
    probabilities = np.array([[0.5, 0.2, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_array_equal(rank_of(probabilities, 1), [2, 3])


# --------------------------------------------------------------------------------------------------- rationalize


@pytest.fixture(scope="module")
def boomerang_model() -> tuple[CAREER, CareerPanel]:
    panel = boomerang_panel()
    train, test = panel.split_persons((0.8, 0.2), rng=0)
    params = {**TINY_CAREER, "n_layers": 2, "d_model": 32, "d_ff": 64, "lr": 5e-3, "warmup_steps": 10}
    model = CAREER(**params, max_steps=250, patience=None, word_dropout=0.5).fit(train, rng=0)
    return model, test


def test_rationales_find_the_job_people_return_to(boomerang_model):
    model, test = boomerang_model
    data = test.data
    last = data.groupby("person_id").tail(1)
    rationales = rationalize_many(model, test, last[["person_id", "year"]])
    assert all(r.observed != "unemployed" and r.history["state"].iloc[-1] == "unemployed" for r in rationales)
    assert np.mean([r.p_full for r in rationales]) > 0.8  # the model has learnt the return
    assert all(r.reached for r in rationales)
    explained_by_the_old_job = [r.size == 2 and r.steps["added"].iloc[1].endswith(r.observed) for r in rationales]
    alone_is_enough = [r.size == 1 for r in rationales]  # the spell alone happened to rank the job in the top 2
    assert np.mean(explained_by_the_old_job) > 0.6
    assert all(a or b for a, b in zip(explained_by_the_old_job, alone_is_enough, strict=True))


def test_rationale_renders_as_text_dict_and_figure(boomerang_model):
    model, test = boomerang_model
    person, year = test.data.groupby("person_id").tail(1)[["person_id", "year"]].iloc[0]
    rationale = rationalize(model, test, person, year)
    text = rationale.to_text()
    assert f"Person {person}, {year}" in text and "most recent job" in text and "a move" in text
    assert len(text.splitlines()) == rationale.size + 3
    record = json.loads(json.dumps(rationale.to_dict()))
    assert record["size"] == rationale.size and len(record["steps"]) == rationale.size
    history = rationale.history
    assert list(history["year"]) == list(test.data.loc[test.data.person_id == person, "year"].iloc[:-1])
    assert history["in_rationale"].sum() == rationale.size - (START in set(rationale.steps["added"]))
    fig = rationale.plot()
    assert len(fig.axes[0].patches) == rationale.size
    plt.close(fig)


def test_rationalize_rejects_first_years_and_unknown_person_years(boomerang_model):
    model, test = boomerang_model
    first = test.data.iloc[0]
    with pytest.raises(ValueError, match="first observed year"):
        rationalize(model, test, first.person_id, first.year)
    with pytest.raises(ValueError, match="no such person-years"):
        rationalize(model, test, -1, 2000)


def test_rationalize_warns_without_word_dropout(boomerang_model):
    _, test = boomerang_model
    plain = CAREER(**TINY_CAREER, max_steps=2, warmup_steps=1).fit(test, rng=0)
    row = test.data.iloc[1]
    with pytest.warns(UserWarning, match="word dropout"):
        rationalize(plain, test, row.person_id, row.year)


def test_targets_have_an_earlier_job_and_summaries_match_hand_counts(boomerang_model):
    model, test = boomerang_model
    targets = rationale_targets(test, 30, rng=0)
    assert len(targets) == 30 and not targets.duplicated().any()
    firsts = test.data.groupby("person_id")["year"].min()
    assert (targets["year"].to_numpy() > firsts.loc[targets["person_id"]].to_numpy()).all()
    with pytest.raises(ValueError, match="asked for"):
        rationale_targets(test, len(test) + 1)
    rationales = rationalize_many(model, test, targets)
    summary = summarize_rationales(rationales)
    moves = [r for r in rationales if r.is_move]
    assert summary.loc["all", "n"] == 30 and summary.loc["moves", "n"] == len(moves)
    assert summary.loc["all", "mean_size"] == pytest.approx(np.mean([r.size for r in rationales]))
    assert summary.loc["moves", "share_reached"] == pytest.approx(np.mean([r.reached for r in moves]))
    assert summary.loc["all", "mean_seconds"] > 0


def test_from_search_labels_the_start_of_career():
    net = tiny_net(n_states=3, seed=5)
    batch = one_person_batch([0, 1, 2, 0], n_states=3)
    search = greedy_rationale(net, batch, 3, top=1)
    earlier = pd.DataFrame({"year": [2000, 2001, 2002], "state": ["a", "b", "c"]})
    rationale = Rationale.from_search(
        search, person=1, year=2003, earlier=earlier, states=("a", "b", "c"), titles={"a": "Alpha"}, seconds=0.1
    )
    labels = [START, "2000: a", "2001: b", "2002: c"]
    assert list(rationale.steps["added"]) == [labels[p] for p in search.added]
    assert rationale.observed == "a" and rationale.is_move
    assert rationale.steps["p_top1"].ge(rationale.steps["p_top2"]).all()
