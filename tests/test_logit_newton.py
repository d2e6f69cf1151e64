"""The Newton-CG solver of the logits: analytic derivatives against autograd, the optimum against L-BFGS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_panel

from laborseq.models import MNLogit
from laborseq.models.features import EncodedFeatures
from laborseq.models.first_year_logit import aggregate_rows
from laborseq.models.logit_newton import _curvature_product, _rows, dense_design, fits_dense
from laborseq.models.logit_start import SMOOTHING, markov_start
from laborseq.models.loglinear import LogLinear, fit_loglinear, to_torch

HEADS = [(False, True), (False, False), (True, True), (True, False)]  # (two_stage, base_class)


def _problem(two_stage: bool, base_class: bool, n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_classes = 5
    features = EncodedFeatures(
        codes={"prev": rng.integers(0, 4, n), "education": rng.integers(0, 3, n)},
        levels={"prev": ["a", "b", "c", "d"], "education": ["x", "y", "z"]},
        numeric_names=["age", "tenure"],
        numeric=rng.normal(size=(n, 2)),
    )
    prev = rng.integers(-1, n_classes, n) if two_stage else None
    y = rng.integers(0, n_classes, n)
    if two_stage:  # plenty of stays
        y = np.where((rng.random(n) < 0.5) & (prev >= 0), prev, y)
    model = LogLinear({"prev": 4, "education": 3}, 2, n_classes, two_stage=two_stage, base_class=base_class)
    weights = rng.uniform(0.5, 2.0, n)
    data = to_torch(features, y, prev, weights, dtype=torch.float64, device="cpu")
    return model, data


@pytest.mark.parametrize(("two_stage", "base_class"), HEADS)
def test_analytic_gradient_and_hessian_products_equal_autograd(two_stage, base_class) -> None:
    model, data = _problem(two_stage, base_class)
    design = dense_design(model, data)
    gen = torch.Generator().manual_seed(1)
    eta = torch.randn((len(data), model.width), generator=gen, dtype=torch.float64)
    direction = torch.randn(eta.shape, generator=gen, dtype=torch.float64)

    def nll(e: torch.Tensor) -> torch.Tensor:
        logp = model.head_log_probs(e, data.prev).gather(1, data.y.unsqueeze(1)).squeeze(1)
        return -(data.weights * logp).sum()

    rows = _rows(model, eta, data.y, data.prev)
    np.testing.assert_allclose((data.weights * rows.nll).sum(), nll(eta).detach(), rtol=1e-12)
    grad = torch.func.grad(nll)(eta)
    np.testing.assert_allclose(data.weights.unsqueeze(1) * rows.grad, grad, atol=1e-12)
    _, hvp = torch.func.jvp(torch.func.grad(nll), (eta,), (direction,))
    product = data.weights.unsqueeze(1) * _curvature_product(model, rows, direction)
    np.testing.assert_allclose(product, hvp, atol=1e-12)
    assert design.shape == (len(data), 1 + 3 + 2 + 2)


@pytest.mark.parametrize(("two_stage", "base_class"), HEADS)
def test_newton_reaches_the_lbfgs_optimum(two_stage, base_class) -> None:
    alpha = 0.0 if base_class else 1e-3
    fits = {}
    for solver in ("newton", "lbfgs"):
        model, data = _problem(two_stage, base_class)
        info = fit_loglinear(model, data, alpha=alpha, solver=solver, max_iter=5000, tol=1e-12)
        fits[solver] = (model, info)
    (newton, info_n), (lbfgs, info_l) = fits["newton"], fits["lbfgs"]
    assert info_n["converged"] and info_n["iterations"] < 30
    assert info_n["objective"] <= info_l["objective"] + 1e-10
    np.testing.assert_allclose(info_n["objective"], info_l["objective"], rtol=1e-9)
    np.testing.assert_allclose(newton.flat_parameters(), lbfgs.flat_parameters(), atol=2e-4)


def test_auto_solver_picks_newton_for_small_problems_and_the_mle_is_the_markov_one() -> None:
    panel = make_panel(400, seed=5)
    model = MNLogit(features=("previous_state",), tol=1e-12).fit(panel)
    assert model.fit_info_["converged"]  # zero-count transitions: logits run off towards -inf, slowly
    counts = panel.targets()
    transitions = ~counts["is_first"].to_numpy()
    prev = panel.lagged_states(1)[panel.target_mask][transitions]
    y = panel.state_index()[panel.target_mask][transitions]
    k = panel.scheme.n_states
    table = np.zeros((k, k))
    np.add.at(table, (prev, y), 1.0)
    observed = table.sum(1) > 0
    mle = table[observed] / table[observed].sum(1, keepdims=True)
    probs = model.predict_proba(panel)[transitions]
    expected = mle[np.searchsorted(np.flatnonzero(observed), prev)]
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    small, _ = _problem(False, True)
    assert fits_dense(small, 1000) and not fits_dense(small, 10**8)


@pytest.mark.parametrize(("two_stage", "base_class"), HEADS)
def test_markov_start_is_the_smoothed_transition_table(two_stage, base_class) -> None:
    rng = np.random.default_rng(2)
    n, k = 3000, 4
    prev = rng.integers(0, k, n)
    y = np.where(rng.random(n) < 0.6, prev, rng.integers(0, k, n))
    weights = rng.uniform(0.5, 2.0, n)
    features = EncodedFeatures(
        codes={"education": rng.integers(0, 2, n), "previous_state": prev},
        levels={"education": ["a", "b"], "previous_state": [str(s) for s in range(k)]},
        numeric_names=["age"],
        numeric=rng.normal(size=(n, 1)),
    )
    start = markov_start(features, y, prev, weights, k, two_stage=two_stage, base_class=base_class)
    model = LogLinear({"education": 2, "previous_state": k}, 1, k, two_stage=two_stage, base_class=base_class)
    model.load_flat_parameters(start)
    data = to_torch(features, y, prev, None, dtype=torch.float64, device="cpu")
    probs = model.log_probs(data.codes, data.numeric, data.prev).exp().detach().numpy()
    counts = np.zeros((k, k))
    np.add.at(counts, (prev, y), weights)
    if two_stage:  # stay share, then the destinations among moves
        stay = np.diag(counts) + SMOOTHING
        total = counts.sum(1) + 2 * SMOOTHING
        moves = counts + SMOOTHING
        moves[np.arange(k), np.arange(k)] = 0.0
        expected = moves / moves.sum(1, keepdims=True) * (1 - stay / total)[:, None]
        expected[np.arange(k), np.arange(k)] = stay / total
    else:
        expected = (counts + SMOOTHING) / (counts + SMOOTHING).sum(1, keepdims=True)
    np.testing.assert_allclose(probs, expected[prev], atol=1e-12)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_aggregated_rows_give_the_fit_of_the_rows(solver) -> None:
    """Rows with identical features merged into outcome shares with their total weight: the same optimum."""
    rng = np.random.default_rng(7)
    n, k = 2000, 6
    features = EncodedFeatures(
        codes={"year": rng.integers(0, 5, n), "education": rng.integers(0, 3, n)},
        levels={"year": [str(y) for y in range(5)], "education": ["a", "b", "c"]},
        numeric_names=[],
        numeric=np.zeros((n, 0)),
    )
    y = rng.integers(0, k, n)
    weights = rng.uniform(0.5, 2.0, n)
    merged, shares, totals = aggregate_rows(features, y, weights, k)
    assert len(totals) <= 15 and np.isclose(totals.sum(), weights.sum())
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    fits = []
    for rows, outcomes, w in ((features, y, weights), (merged, shares, totals)):
        model = LogLinear({"year": 5, "education": 3}, 0, k, two_stage=False, base_class=False)
        data = to_torch(rows, outcomes, None, w, dtype=torch.float64, device="cpu")
        info = fit_loglinear(model, data, alpha=1e-3, solver=solver, max_iter=3000, tol=1e-12)
        fits.append((model.flat_parameters(), info["objective"]))
    np.testing.assert_allclose(fits[0][1], fits[1][1], rtol=1e-10)
    np.testing.assert_allclose(fits[0][0], fits[1][0], atol=1e-5)
