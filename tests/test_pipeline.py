"""The pipeline: the comparison study as library calls, clones everywhere, pretraining once."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY_CAREER

from laborseq._util.random import seed_record
from laborseq.datasets import load_nlswork, load_wages
from laborseq.evaluation import compare
from laborseq.models import CAREER, Markov
from laborseq.models.career import model as career_module
from laborseq.pipeline import career_model, run_comparison, split_panel, write_report
from laborseq.synthetic import SyntheticCareers


@pytest.fixture(scope="module")
def panel():
    return load_nlswork().sample_persons(250, rng=0)


def test_run_comparison_fits_clones_and_writes_what_it_computed(panel, tmp_path):
    given = {"markov1": Markov(order=1), "markov2": Markov(order=2)}
    study = run_comparison(
        panel, given, n_boot=30, forecast_origin=1980, forecast_samples=20, wages=load_wages("nlswork"), rng=0
    )
    assert not any(hasattr(m, "classes_") for m in given.values())  # the caller's models are untouched
    assert set(study.comparison.models) == set(study.forecast.models) == set(given)
    assert study.comparison.models["markov1"] is not study.forecast.models["markov1"]  # fitted on other years
    # the comparison equals compare() on the same split
    _, parts, _ = split_panel(panel, rng=0)
    direct = compare(given, parts["train"], parts["test"], valid=parts["valid"], rng=0, n_boot=30)
    np.testing.assert_array_equal(study.comparison.scores.to_numpy(), direct.scores.to_numpy())
    paths = write_report(study, tmp_path / "report")
    written = json.loads(paths["results"].read_text())
    assert written == json.loads(json.dumps(study.to_dict()))
    assert {row["representation"] for row in written["wages"]["differences"]} == {
        "one-hot history",
        "previous occupation",
    }


def test_a_generator_seed_gives_reproducible_intervals_everywhere(panel, tmp_path):
    runs = [
        run_comparison(panel, ["markov1"], n_boot=30, forecast_origin=None, rng=np.random.default_rng(7))
        for _ in range(2)
    ]
    first, second = (r.comparison for r in runs)
    assert first.seed == "generator"
    assert first.scores.equals(second.scores)
    by = {name: frame for name, frame in runs[0].breakdowns.perplexity_by.items()}
    for name, frame in runs[1].breakdowns.perplexity_by.items():
        assert frame.equals(by[name])
    # and the study is recorded as plain JSON
    written = json.loads(write_report(runs[0], tmp_path / "report")["results"].read_text())
    assert written["split"]["seed"] == written["bootstrap"]["seed"] == "generator"


def test_seeds_are_recorded_as_json():
    assert [seed_record(s) for s in (None, 3, np.int64(4), np.random.default_rng(0))] == [None, 3, 4, "generator"]


def test_pretraining_happens_once_and_is_shared_by_the_comparison_and_the_forecast(tmp_path, monkeypatch):
    process = SyntheticCareers(seed=0, n_occupations=12)
    resumes = process.sample(120, population="resume", rng=1)
    survey = process.sample(150, population="survey", rng=2)
    fits = []
    real_train = career_module.train

    def counted(net, *args, **kwargs):
        fits.append(args[2].lr)
        return real_train(net, *args, **kwargs)

    monkeypatch.setattr(career_module, "train", counted)
    tiny = {k: v for k, v in TINY_CAREER.items() if k not in ("max_steps",)}
    career = career_model("small", pretrain=resumes, max_steps=3, rng=0, **tiny)
    assert len(fits) == 1 and isinstance(career.pretrained, CAREER)
    origin = int(np.unique(survey.years)[-3])
    study = run_comparison(survey, {"career": career}, n_boot=20, forecast_origin=origin, forecast_samples=5, rng=0)
    assert len(fits) == 3  # pretraining, then one fine-tuning each for the comparison and the forecast
    assert study.comparison.models["career"].pretrained is career.pretrained
    assert study.forecast.models["career"].pretrained is career.pretrained
    assert study.comparison.models["career"].training_["stage"] == "fine-tune"
    with pytest.raises(ValueError, match="not both"):
        career_model(pretrain=resumes, pretrained="somewhere")
