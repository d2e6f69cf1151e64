"""CAREER as an estimator: learning a known process, pretraining then fine-tuning, checkpoints, presets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_CAREER, make_panel

from laborseq import CareerPanel, OccupationScheme
from laborseq.models import CAREER, Marginal, Markov, clone, load_model
from laborseq.models.career import PRESETS
from laborseq.models.career import model as career_module

TINY = {**TINY_CAREER, "warmup_steps": 10}


@pytest.fixture(scope="module")
def markov_split() -> tuple[CareerPanel, CareerPanel, CareerPanel]:
    return make_panel(900, seed=11).split_persons((0.6, 0.2, 0.2), rng=2)


def test_learns_a_markov_process(markov_split) -> None:
    train, valid, test = markov_split
    model = CAREER(**TINY, max_steps=400, patience=20).fit(train, valid=valid, rng=0)
    markov = Markov(order=1).fit(train).perplexity(test)
    # the data come from a first-order chain (first state by education): CAREER must get
    # close to the chain fitted by counting, and far below the marginal distribution
    assert model.perplexity(test) < 1.04 * markov
    assert model.perplexity(test) < 0.7 * Marginal().fit(train).perplexity(test)
    assert model.training_["stage"] == "from scratch"
    # the model keeps the weights of its best validation loss
    assert model.training_["best_valid_loss"] == pytest.approx(-model.score(valid), rel=1e-4)


def _relabelled(panel: CareerPanel) -> CareerPanel:
    """The panel with state 44 renamed 55 and a gender covariate (a 'survey' with other states and covariates)."""
    frame = panel.data.copy()
    frame["occ"] = frame["occ"].astype(str).replace({"44": "55"})
    frame["gender"] = np.where(frame["person_id"] % 2 == 0, "female", "male")
    scheme = OccupationScheme(name="survey", codes=("11", "22", "33", "55"), status_tokens=("unemployed",))
    return CareerPanel(frame, covariates=["education", "race", "gender"], scheme=scheme)


def test_fine_tuning_starts_from_the_pretrained_weights(monkeypatch, markov_split) -> None:
    train, valid, _ = markov_split
    base = CAREER(**TINY, max_steps=30).fit(train, valid=valid, rng=0)
    assert base.classes_ == train.states
    pretrained = {k: v.clone() for k, v in base.net_.state_dict().items()}
    survey = _relabelled(make_panel(120, seed=5))

    started_from = {}
    real_train = career_module.train

    def spy(net, *args, **kwargs):
        started_from.update({k: v.clone() for k, v in net.state_dict().items()})
        config = args[2]
        started_from["lr"], started_from["warmup"] = config.lr, config.warmup_steps
        return real_train(net, *args, **kwargs)

    monkeypatch.setattr(career_module, "train", spy)
    model = CAREER(**TINY, pretrained=base, finetune_max_steps=5, finetune_lr=3e-4, finetune_warmup_steps=2)
    model.fit(survey, rng=0)
    assert (started_from["lr"], started_from["warmup"]) == (3e-4, 2)
    assert model.classes_ == survey.states
    assert model.training_["stage"] == "fine-tune"
    assert model.training_["alignment"]["states"] == {"shared": 4, "new": 1, "dropped": 1}
    assert model.training_["alignment"]["gender"] == {"shared": 0, "new": 2}
    old, new = list(train.states), list(survey.states)
    i, j = old.index("33"), new.index("33")
    torch.testing.assert_close(started_from["job_embedding.weight"][j], pretrained["job_embedding.weight"][i])
    torch.testing.assert_close(started_from["head.weight"][j], pretrained["head.weight"][i])
    key = "decoder.blocks.0.ffn.up.weight"
    torch.testing.assert_close(started_from[key], pretrained[key])
    # fitting again starts from the pretrained weights again, not from the fine-tuned ones
    model.fit(survey, rng=0)
    torch.testing.assert_close(started_from[key], pretrained[key])
    # the pretrained model is left as it was; without pretrained=, fit trains from scratch
    torch.testing.assert_close(base.net_.state_dict()[key], pretrained[key])
    CAREER(**TINY, max_steps=2).fit(survey, rng=0)
    assert started_from["lr"] == TINY["lr"]


def test_a_network_with_recall_fine_tunes_from_one_without(monkeypatch, markov_split) -> None:
    train, valid, _ = markov_split
    base = CAREER(**TINY, max_steps=20).fit(train, valid=valid, rng=0)
    pretrained = {k: v.clone() for k, v in base.net_.state_dict().items()}
    started_from = {}
    real_train = career_module.train

    def spy(net, *args, **kwargs):
        started_from.update({k: v.clone() for k, v in net.state_dict().items()})
        return real_train(net, *args, **kwargs)

    monkeypatch.setattr(career_module, "train", spy)
    model = CAREER(**TINY, recall=True, pretrained=base, finetune_max_steps=5).fit(train, valid=valid, rng=0)
    k = len(train.states)
    assert started_from["head.weight"].shape[0] == k + 2  # the states, the stay logit, the recall gate
    torch.testing.assert_close(started_from["head.weight"][: k + 1], pretrained["head.weight"])
    key = "decoder.blocks.0.attn.qkv.weight"
    torch.testing.assert_close(started_from[key], pretrained[key])
    assert model.net_.config.recall and float(model.net_.decay()) > 0
    # and back: a network without recall fine-tunes from one with it (its gate and decay are dropped)
    CAREER(**TINY, pretrained=model, finetune_max_steps=2).fit(train, valid=valid, rng=0)


def test_pretrained_directory_equals_pretrained_model_in_memory(tmp_path, markov_split) -> None:
    train, valid, _ = markov_split
    survey = _relabelled(make_panel(120, seed=5))
    params = {**TINY, "max_steps": 20, "finetune_max_steps": 10}
    base = CAREER(**params).fit(train, valid=valid, rng=0)
    path = base.save(tmp_path / "pretrained")
    in_memory = CAREER(**params, pretrained=base).fit(survey, rng=1)
    from_disk = CAREER(**params, pretrained=str(path)).fit(survey, rng=1)
    np.testing.assert_allclose(from_disk.predict_proba(survey), in_memory.predict_proba(survey), atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        CAREER(**{**params, "d_model": 8}, pretrained=str(path)).fit(survey)
    CAREER(**{**params, "dropout": 0.3}, pretrained=str(path)).fit(survey)  # another dropout is fine
    Markov(order=1).fit(train).save(tmp_path / "markov")
    with pytest.raises(TypeError, match="not a CAREER"):
        CAREER(**params, pretrained=str(tmp_path / "markov")).fit(survey)
    # a model fine-tuned from a model in memory saves that model beside it: loading reproduces both
    saved = in_memory.save(tmp_path / "finetuned")
    assert (saved / "param-pretrained" / "config.json").exists()
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict_proba(survey), in_memory.predict_proba(survey))
    np.testing.assert_array_equal(loaded.pretrained.predict_proba(train), base.predict_proba(train))
    refitted = clone(loaded).fit(survey, rng=1)
    np.testing.assert_allclose(refitted.predict_proba(survey), in_memory.predict_proba(survey), atol=1e-6)


def test_checkpoints_are_written_and_resumed(tmp_path, markov_split) -> None:
    train, valid, test = markov_split
    directory = tmp_path / "run"
    model = CAREER(**TINY, max_steps=12, checkpoint_dir=str(directory)).fit(train, valid=valid, rng=0)
    for sub in ("last", "best"):
        files = {p.suffix for p in (directory / sub).iterdir()}
        assert files <= {".json", ".safetensors"}, files
    config = json.loads((directory / "last" / "config.json").read_text())
    assert config["metadata"]["model"] == "CAREER"
    assert config["metadata"]["vocabulary"]["states"] == list(train.states)
    # a second fit with the same directory resumes the finished run: no further steps
    again = CAREER(**TINY, max_steps=12, checkpoint_dir=str(directory)).fit(train, valid=valid, rng=0)
    assert again.training_["steps"] == model.training_["steps"] == 12
    np.testing.assert_allclose(again.predict_proba(test), model.predict_proba(test), atol=1e-6)


def test_covariates_are_used(markov_split) -> None:
    """Education decides the first state in the data: with it the first years are predicted better."""
    train, valid, test = markov_split
    first = test.lagged_states(1)[test.target_mask] < 0
    with_edu = CAREER(**TINY, max_steps=200).fit(train, valid=valid, rng=0)
    without = CAREER(**TINY, max_steps=200, covariates=()).fit(train, valid=valid, rng=0)
    assert with_edu.log_likelihood(test)[first].mean() > without.log_likelihood(test)[first].mean() + 0.1


def test_presets_and_bad_parameters(toy_panel) -> None:
    paper = CAREER.preset("paper")
    assert (paper.n_layers, paper.d_model, paper.n_heads, paper.d_ff) == (12, 192, 3, 768)
    assert (paper.lr, paper.warmup_steps, paper.max_tokens) == (5e-4, 4_000, 16_000)
    small = CAREER.preset("small", max_steps=3)
    assert small.max_steps == 3 and small.d_model == PRESETS["small"]["d_model"]
    with pytest.raises(ValueError, match="unknown CAREER preset"):
        CAREER.preset("huge")
    with pytest.raises(ValueError, match="divisible"):
        CAREER(d_model=10, n_heads=3).fit(toy_panel)
    with pytest.raises(ValueError, match="precision"):
        CAREER(**TINY, precision="fp16").fit(toy_panel)


def test_paper_configuration_parameter_count() -> None:
    """5,338,368 transformer parameters (444,864 per layer) plus final LayerNorm, as computed in the reference."""
    from laborseq.nn.career_net import CareerNet, CareerNetConfig

    net = CareerNet(CareerNetConfig(n_states=468, input_sizes=()))
    per_layer = sum(p.numel() for p in net.decoder.blocks[0].parameters())
    assert per_layer == 444_864
    assert sum(p.numel() for p in net.decoder.parameters()) == 12 * 444_864 + 384
    # job embedding (468 states + start) and output layer (468 moves + stay), no bias
    assert net.job_embedding.weight.numel() == net.head.weight.numel() == 469 * 192


def test_saved_model_holds_vocabulary_and_training_record(tmp_path, toy_split) -> None:
    train, valid, test = toy_split
    model = CAREER(**TINY, max_steps=5).fit(train, valid=valid)
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    assert config["fitted"]["vocabulary"]["states"] == list(train.states)
    assert config["fitted"]["training"]["steps"] == 5
    loaded = load_model(path)
    assert loaded.n_parameters == model.n_parameters
    frame = test.data.assign(race=pd.Categorical(["other"] * len(test)))
    shifted = CareerPanel(frame, covariates=list(test.covariates), scheme=test.scheme)
    with pytest.warns(UserWarning, match="race"):
        loaded.predict_proba(shifted)


def test_an_interrupted_run_resumes_to_the_same_model(tmp_path, monkeypatch, toy_split) -> None:
    """Kill training after its checkpoint at update 6; fitting again with the same directory finishes the run."""
    train, valid, test = toy_split
    params = {**TINY, "dropout": 0.1, "max_tokens": 300, "max_steps": 12, "eval_every": 3}
    straight = CAREER(**params).fit(train, valid=valid, rng=0)

    real_train = career_module.train

    class Killed(Exception):
        pass

    def killed_after_six(*args, **kwargs):
        def kill(state):
            if state.step == 6:
                raise Killed

        return real_train(*args, **kwargs, callback=kill)

    monkeypatch.setattr(career_module, "train", killed_after_six)
    directory = str(tmp_path / "run")
    with pytest.raises(Killed):
        CAREER(**params, checkpoint_dir=directory).fit(train, valid=valid, rng=0)
    steps_run = []

    def counted(*args, **kwargs):
        return real_train(*args, **kwargs, callback=lambda state: steps_run.append(state.step))

    monkeypatch.setattr(career_module, "train", counted)
    resumed = CAREER(**params, checkpoint_dir=directory).fit(train, valid=valid, rng=0)
    assert steps_run == [7, 8, 9, 10, 11, 12]  # continued from the checkpoint, not from scratch
    assert resumed.training_["steps"] == 12
    np.testing.assert_allclose(resumed.predict_proba(test), straight.predict_proba(test), rtol=0, atol=1e-6)
