"""The CAREER network: encoding, causality, the loss, and carrying weights across vocabularies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_panel

from laborseq import CareerPanel, OccupationScheme
from laborseq.nn.career_net import CareerNet, CareerNetConfig, aligned_state_dict, career_loss
from laborseq.nn.encoding import GAP_INPUT, MAX_GAP, YEAR_INPUT, CareerVocabulary, CovariateVocab
from laborseq.nn.heads import two_stage_log_probs
from laborseq.nn.transformer import DecoderConfig, dropout_, sinusoidal_positions

TINY = DecoderConfig(n_layers=2, d_model=16, n_heads=2, d_ff=32, dropout=0.0, attn_dropout=0.0)


def _net(vocab: CareerVocabulary, two_stage: bool = True, seed: int = 0, recall: bool = False) -> CareerNet:
    torch.manual_seed(seed)
    config = CareerNetConfig(len(vocab.states), tuple(v.size for v in vocab.inputs), TINY, two_stage, recall)
    return CareerNet(config).eval()


def _gappy_panel() -> CareerPanel:
    frame = pd.DataFrame(
        {
            "person_id": [1, 1, 1, 1, 2, 2],
            "year": [2000, 2001, 2003, 2010, 1999, 2000],
            "occ": ["a", "a", "b", "a", "b", "b"],
            "education": ["hs", "hs", "ba", "ba", None, "hs"],
            "birth_year": [1971, 1971, 1971, 1971, 1968, 1968],
            "score": np.linspace(0, 1, 6) * 100,
        }
    )
    scheme = OccupationScheme(name="ab", codes=("a", "b"))
    return CareerPanel(frame, covariates=["education", "birth_year", "score"], scheme=scheme)


def test_vocabulary_codes_year_gap_cohort_and_missing() -> None:
    panel = _gappy_panel()
    vocab = CareerVocabulary.fit(panel)
    assert vocab.names == [YEAR_INPUT, GAP_INPUT, "education", "birth_year", "score"]
    kinds = {v.name: v.kind for v in vocab.inputs}
    assert kinds == {
        YEAR_INPUT: "year",
        GAP_INPUT: "gap",
        "education": "categorical",
        "birth_year": "cohort",
        "score": "categorical",
    }
    data = vocab.encode(panel)
    year, gap, edu, cohort = (data.codes[:, i] for i in range(4))
    # years 1999..2010 are levels 1..12 (panel rows sorted by person, year)
    np.testing.assert_array_equal(year, np.array([2000, 2001, 2003, 2010, 1999, 2000]) - 1999 + 1)
    # first observations have no gap (code 0); 7 years is capped at MAX_GAP
    np.testing.assert_array_equal(gap, [0, 1, 2, MAX_GAP, 0, 1])
    edu_levels = vocab.inputs[2].levels
    assert edu_levels == sorted(["<NA>", "ba", "hs"])
    assert edu[4] == edu_levels.index("<NA>") + 1
    assert vocab.inputs[3].levels == ["1965", "1970"]
    np.testing.assert_array_equal(cohort, [2, 2, 2, 2, 1, 1])


def test_vocabulary_unseen_levels_and_years() -> None:
    panel = _gappy_panel()
    vocab = CareerVocabulary.fit(panel, ["education"])
    frame = panel.data.copy()
    frame["education"] = frame["education"].astype(object)
    frame.loc[0, "education"] = "phd"
    frame.loc[5, "year"] = 2030
    other = CareerPanel(frame, covariates=["education"], scheme=panel.scheme)
    with pytest.warns(UserWarning, match="education.*phd"):
        data = vocab.encode(other)
    assert data.codes[0, 2] == 0  # unseen level: the zero embedding
    assert data.codes[-1, 0] == 12  # 2030 uses the last trained year (2010 -> level 12)


def test_binned_numeric_covariate() -> None:
    values = pd.Series(np.arange(100, dtype=float))
    vocab = CovariateVocab.fit("income", values)
    assert vocab.kind == "binned" and len(vocab.edges) == 9
    assert CovariateVocab.from_dict(vocab.to_dict()) == vocab


def test_collate_shifts_inputs_and_pads() -> None:
    panel = _gappy_panel()
    vocab = CareerVocabulary.fit(panel)
    data = vocab.encode(panel)
    batch = data.collate(np.array([1, 0]))
    k = len(vocab.states)
    # person 2 (two rows, padded to four) then person 1
    np.testing.assert_array_equal(batch["targets"].numpy(), [[1, 1, -1, -1], [0, 0, 1, 0]])
    np.testing.assert_array_equal(batch["inputs"].numpy(), [[k, 1, k, k], [k, 0, 0, 1]])
    np.testing.assert_array_equal(batch["prev"].numpy(), [[-1, 1, -1, -1], [-1, 0, 0, 1]])
    np.testing.assert_array_equal(batch["rows"].numpy(), [[4, 5, -1, -1], [0, 1, 2, 3]])
    np.testing.assert_array_equal(batch["weight"].numpy(), [[1, 1, 0, 0], [1, 1, 1, 1]])
    assert (batch["covariates"][0, 2:] == 0).all()


def test_network_is_causal_and_padding_free() -> None:
    panel = make_panel(40, seed=3)
    vocab = CareerVocabulary.fit(panel)
    net = _net(vocab)
    data = vocab.encode(panel)
    batch = data.collate(np.arange(len(data.lengths())))
    logits = net(batch["inputs"], batch["covariates"])
    # changing the future (inputs and covariates after t) leaves outputs up to t unchanged
    t = 2
    inputs, covariates = batch["inputs"].clone(), batch["covariates"].clone()
    inputs[:, t + 1 :] = 0
    covariates[:, t + 1 :] = 1
    changed = net(inputs, covariates)
    torch.testing.assert_close(changed[:, : t + 1], logits[:, : t + 1])
    assert not torch.allclose(changed[:, t + 1 :], logits[:, t + 1 :])
    # a person alone gives the same outputs as inside a padded batch
    for person in (0, 5):
        alone = data.collate(np.array([person]))
        length = alone["inputs"].shape[1]
        torch.testing.assert_close(net(alone["inputs"], alone["covariates"])[0], logits[person, :length])


def test_loss_is_weighted_nll_of_two_stage_head() -> None:
    panel = make_panel(30, seed=4)
    vocab = CareerVocabulary.fit(panel)
    net = _net(vocab)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(panel))
    data = vocab.encode(panel, weights)
    batch = data.collate(np.arange(len(data.lengths())))
    total, norm = career_loss(net, batch)
    logits = net(batch["inputs"], batch["covariates"]).detach().double()
    expected, denom = 0.0, 0.0
    for b in range(logits.shape[0]):
        for t in range(logits.shape[1]):
            row = int(batch["rows"][b, t])
            if row < 0:
                continue
            log_p = two_stage_log_probs(logits[b, t], batch["prev"][b, t])
            expected -= weights[row] * float(log_p[panel.state_index()[row]])
            denom += weights[row]
    assert float(norm) == pytest.approx(denom, rel=1e-6)
    assert float(total.detach()) == pytest.approx(expected, rel=1e-5)


def test_sinusoidal_positions_shape_and_values() -> None:
    pe = sinusoidal_positions(5, 8)
    assert pe.shape == (5, 8)
    np.testing.assert_allclose(pe[0].numpy(), [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(pe[3, 0].item(), np.sin(3.0), rtol=1e-6)
    assert sinusoidal_positions(4, 7).shape == (4, 7)


def test_aligned_state_dict_keeps_shared_rows() -> None:
    source_panel = make_panel(50, seed=1)  # states 11, 22, 33, 44, unemployed; covariates education, race
    frame = source_panel.data.copy()
    frame["occ"] = frame["occ"].astype(str).replace({"44": "55"})
    frame["gender"] = np.where(frame["person_id"] % 2 == 0, "f", "m")
    scheme = OccupationScheme(name="other", codes=("11", "22", "33", "55"), status_tokens=("unemployed",))
    target_panel = CareerPanel(frame, covariates=["education", "gender"], scheme=scheme)
    source_vocab = CareerVocabulary.fit(source_panel)
    target_vocab = CareerVocabulary.fit(target_panel)
    source = {k: v.numpy() for k, v in _net(source_vocab, seed=1).state_dict().items()}
    target_net = _net(target_vocab, seed=2)
    fresh = {k: v.clone() for k, v in target_net.state_dict().items()}
    state, report = aligned_state_dict(source, source_vocab, target_net, target_vocab)
    assert report["states"] == {"shared": 4, "new": 1, "dropped": 1}
    assert report["gender"] == {"shared": 0, "new": 2}
    assert report["dropped_inputs"] == ["race"]
    s_states, t_states = list(source_vocab.states), list(target_vocab.states)
    for code in ("11", "unemployed"):
        i, j = s_states.index(code), t_states.index(code)
        np.testing.assert_array_equal(state["job_embedding.weight"][j].numpy(), source["job_embedding.weight"][i])
        np.testing.assert_array_equal(state["head.weight"][j].numpy(), source["head.weight"][i])
    j55 = t_states.index("55")
    torch.testing.assert_close(state["job_embedding.weight"][j55], fresh["job_embedding.weight"][j55])
    # the start token and the stay row carry over
    np.testing.assert_array_equal(state["job_embedding.weight"][-1].numpy(), source["job_embedding.weight"][-1])
    np.testing.assert_array_equal(state["head.weight"][-1].numpy(), source["head.weight"][-1])
    # education is input 2 in both; gender (input 3 in the target) is fresh
    np.testing.assert_array_equal(state["input_embeddings.2.weight"].numpy(), source["input_embeddings.2.weight"])
    torch.testing.assert_close(state["input_embeddings.3.weight"], fresh["input_embeddings.3.weight"])
    key = "decoder.blocks.0.attn.qkv.weight"
    np.testing.assert_array_equal(state[key].numpy(), source[key])
    target_net.load_state_dict(state)


def test_recall_network_loss_is_the_mixture_of_fresh_moves_and_returns() -> None:
    panel = make_panel(30, seed=4)
    vocab = CareerVocabulary.fit(panel)
    net = _net(vocab, recall=True)
    with torch.no_grad():
        net.recall_decay.fill_(0.4)
    data = vocab.encode(panel)
    batch = data.collate(np.arange(len(data.lengths())))
    total, norm = career_loss(net, batch)
    logits = net(batch["inputs"], batch["covariates"]).detach().double()
    mu = float(torch.nn.functional.softplus(torch.tensor(0.4)))
    k, states = len(vocab.states), panel.state_index()
    expected, moves_with_a_past = 0.0, 0
    for b in range(logits.shape[0]):
        history: list[int] = []
        for t in range(logits.shape[1]):
            row = int(batch["rows"][b, t])
            if row < 0:
                continue
            prev, observed = int(batch["prev"][b, t]), int(states[row])
            move, stay, gate = logits[b, t, :k], logits[b, t, k], torch.sigmoid(logits[b, t, k + 1])
            if prev < 0:
                p = torch.softmax(move, 0)[observed]
            elif observed == prev:
                p = torch.sigmoid(stay)
            else:
                others = [j for j in range(k) if j != prev]
                q = torch.softmax(move[others], 0)[others.index(observed)]
                w = np.zeros(k)
                for lag, h in enumerate(reversed(history)):
                    w[h] += np.exp(-mu * lag)
                w[prev] = 0.0
                moves_with_a_past += w.sum() > 0
                fresh_or_return = q if w.sum() == 0 else (1 - gate) * q + gate * w[observed] / w.sum()
                p = (1 - torch.sigmoid(stay)) * fresh_or_return
            expected -= float(torch.log(p))
            history.append(observed)
    assert moves_with_a_past >= 5  # (moves to another state after two different ones)
    assert float(norm) == pytest.approx(len(panel))
    assert float(total.detach()) == pytest.approx(expected, rel=1e-5)


def test_recall_network_is_causal() -> None:
    panel = make_panel(40, seed=3)
    vocab = CareerVocabulary.fit(panel)
    net = _net(vocab, recall=True)
    batch = vocab.encode(panel).collate(np.arange(40))
    t = 2
    changed = {k: v.clone() for k, v in batch.items()}
    changed["inputs"][:, t + 1 :] = 0
    changed["prev"][:, t + 1 :] = 0
    with torch.no_grad():
        torch.testing.assert_close(net.log_probs(changed)[:, : t + 1], net.log_probs(batch)[:, : t + 1])


@pytest.mark.parametrize(("source_recall", "target_recall"), [(False, True), (True, False), (True, True)])
def test_aligned_state_dict_carries_the_stay_row_and_the_recall_gate_where_both_have_them(
    source_recall, target_recall
) -> None:
    vocab = CareerVocabulary.fit(make_panel(50, seed=1))
    source_net = _net(vocab, seed=1, recall=source_recall)
    source = {k: v.numpy() for k, v in source_net.state_dict().items()}
    target_net = _net(vocab, seed=2, recall=target_recall)
    fresh = {k: v.clone() for k, v in target_net.state_dict().items()}
    state, _ = aligned_state_dict(source, vocab, target_net, vocab)
    k = len(vocab.states)
    np.testing.assert_array_equal(state["head.weight"][: k + 1].numpy(), source["head.weight"][: k + 1])  # + stay
    if target_recall:
        carried = source_recall
        for key, row in (("head.weight", k + 1), ("recall_decay", ...)):
            expected = source[key][row] if carried else fresh[key][row].numpy()
            np.testing.assert_array_equal(state[key][row].numpy(), expected)
    else:
        assert "recall_decay" not in state
    target_net.load_state_dict(state)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_cpu_dropout_drops_at_rate_p_keeps_the_mean_and_follows_the_seed(p) -> None:
    x = torch.ones(400, 500)
    torch.manual_seed(3)
    y = dropout_(x, p)
    share = float((y == 0).float().mean())
    assert abs(share - p) < 4 * (p * (1 - p) / x.numel()) ** 0.5  # within four standard errors
    np.testing.assert_allclose(float(y.sum()) / x.numel(), 1.0, atol=0.01)
    torch.manual_seed(3)
    assert torch.equal(dropout_(x, p), y)  # the global generator, seeded by training
    assert dropout_(x, p, training=False) is x and dropout_(x, 0.0) is x
    leaf = x.clone().requires_grad_()
    torch.manual_seed(4)
    out = dropout_(leaf, p)
    out.sum().backward()
    assert torch.equal(leaf.grad, (out != 0).float() / (1 - round(p * 65536) / 65536))
    assert dropout_(x.bfloat16(), p).dtype == torch.bfloat16
