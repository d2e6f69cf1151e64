"""CAREER's incremental forecast stepper against full reruns of the network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_CAREER, make_panel

from laborseq import CareerPanel
from laborseq.models import CAREER
from laborseq.models.career.stepper import CareerStepper


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "recall"])
def fitted(request) -> tuple[CAREER, CareerPanel]:
    panel = make_panel(200, seed=8)
    params = {**TINY_CAREER, "n_layers": 2, "recall": request.param}
    model = CAREER(**params, warmup_steps=5, max_steps=30).fit(panel, rng=0)
    return model, panel


def _rows(panel: CareerPanel, person_ids: np.ndarray, year: int, states: list[str]) -> pd.DataFrame:
    last = panel.data.groupby("person_id", sort=False).tail(1).set_index("person_id").loc[person_ids]
    return last.reset_index().assign(year=year, occ=states)


def test_steps_equal_full_reruns(fitted) -> None:
    model, panel = fitted
    history, _ = panel.split_at_year(1996)
    history = CareerPanel(history.data[history.target_mask], covariates=list(panel.covariates), scheme=panel.scheme)
    persons = history.persons
    n_samples, k = 3, len(model.classes_)
    stepper = CareerStepper(model.net_, model.vocabulary_, history, n_samples, torch.device("cpu"))
    covariates = history.data.groupby("person_id", sort=False).tail(1)[list(panel.covariates)]
    path_covariates = covariates.loc[covariates.index.repeat(n_samples)].reset_index(drop=True)

    first = stepper.step(1997, path_covariates)
    assert first.shape == (len(persons) * n_samples, k)
    np.testing.assert_allclose(first.sum(axis=1), 1.0, atol=1e-12)
    # one step: the same for all samples of a person, and equal to predicting a real 1997 row
    new = _rows(history, persons, 1997, [model.classes_[0]] * len(persons))
    frame = pd.concat([history.data.assign(is_target=False), new.assign(is_target=True)], ignore_index=True)
    reference = model.predict_proba(
        CareerPanel(frame, covariates=list(panel.covariates), scheme=panel.scheme, target="is_target")
    )
    np.testing.assert_allclose(first[::n_samples], reference, atol=1e-5)
    np.testing.assert_allclose(first[1::n_samples], reference, atol=1e-5)

    # two steps: every path has its own simulated 1997 state; then a 1999 row (a two-year gap)
    sampled = np.arange(len(persons) * n_samples) % k
    stepper.append(sampled)
    second = stepper.step(1999, path_covariates)
    paths = np.arange(len(persons) * n_samples)
    person_of_path = persons[paths // n_samples]
    base = history.data.set_index("person_id").loc[person_of_path].reset_index()
    base["path"] = np.repeat(paths, history.data.groupby("person_id", sort=False).size().to_numpy()[paths // n_samples])
    step1 = _rows(history, person_of_path, 1997, [model.classes_[s] for s in sampled]).assign(path=paths)
    step2 = _rows(history, person_of_path, 1999, [model.classes_[0]] * len(paths)).assign(path=paths)
    frame = pd.concat(
        [base.assign(is_target=False), step1.assign(is_target=False), step2.assign(is_target=True)], ignore_index=True
    )
    frame["person_id"] = frame["path"]
    reference = model.predict_proba(
        CareerPanel(frame, covariates=list(panel.covariates), scheme=panel.scheme, target="is_target")
    )
    np.testing.assert_allclose(second, reference, atol=1e-5)
    assert np.abs(second[0] - second[1]).max() > 1e-4  # samples of a person now differ


def test_step_and_append_alternate(fitted) -> None:
    model, panel = fitted
    history = panel.select_persons(panel.persons[:4])
    stepper = CareerStepper(model.net_, model.vocabulary_, history, 2, torch.device("cpu"))
    covariates = history.data.groupby("person_id", sort=False).tail(1)[list(panel.covariates)]
    rows = covariates.loc[covariates.index.repeat(2)]
    with pytest.raises(RuntimeError, match="step"):
        stepper.append(np.zeros(8, dtype=int))
    stepper.step(2010, rows)
    with pytest.raises(RuntimeError, match="not appended"):
        stepper.step(2011, rows)
    with pytest.raises(ValueError, match="covariate rows"):
        stepper.append(np.zeros(8, dtype=int))
        stepper.step(2011, rows.iloc[:3])


def test_forecast_with_the_incremental_stepper_equals_the_generic_one(fitted, monkeypatch) -> None:
    from laborseq.models.base import SequenceModel

    model, panel = fitted
    years = [1997, 1999, *range(2000, 2010)]  # more years than the path cache's first capacity (8)
    fast = model.forecast(panel, origin=1996, years=years, n_samples=20, rng=3)
    monkeypatch.setattr(CAREER, "_stepper", SequenceModel._stepper)  # the engine's rerun-everything stepper
    slow = model.forecast(panel, origin=1996, years=years, n_samples=20, rng=3)
    np.testing.assert_allclose(fast.probabilities, slow.probabilities, atol=1e-5)
    assert (fast.paths == slow.paths).mean() > 0.999  # same uniforms; a draw on a CDF boundary may differ
    assert fast.model == "CAREER" and fast.paths.shape == (fast.n_persons, 20, len(years))
