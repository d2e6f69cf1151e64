"""Average marginal effects of MNLogit against independent references, and their cost on nlswork.

Run from the repository root::

    .venv/bin/python analyses/margins_vs_statsmodels.py

Prints the largest differences between ``MNLogit.marginal_effects`` and:

1. statsmodels' ``MNLogit(...).fit().get_margeff()`` (average dy/dx and delta-method
   standard errors) on wage_panel with numeric features (years in state, years observed,
   birth year), with the nonrobust and the person-clustered covariance;
2. brute force for the discrete changes of categorical covariates (race has three
   levels, which ``get_margeff(dummy=True)`` cannot do for MNLogit): statsmodels'
   ``predict`` on the two counterfactual designs, and the delta method with a
   numerical Jacobian (``statsmodels.tools.numdiff.approx_fprime``);
3. brute force for the two-stage head (effects on every probability, on P(move) and on
   the destination shares; standard errors from a bootstrap covariance) and for a
   weighted fit, through the model's own forward pass on counterfactual designs, with
   finite differences for dy/dx and a numerical Jacobian;

then the wall time of the effects of the paper's full ``mnlogit`` on nlswork's training persons.
"""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import pandas as pd
from statsmodels.discrete.discrete_model import MNLogit as SMMNLogit
from statsmodels.tools.numdiff import approx_fprime

from laborseq import CareerPanel, datasets
from laborseq.models import MNLogit, logit_engine
from laborseq.models.first_year_logit import split_targets
from laborseq.pipeline import split_panel


def encoded(model: MNLogit, panel: CareerPanel):
    _, trans = split_targets(panel)
    x = model.encoder_.transform(panel, trans)
    y = np.searchsorted(model.outcomes_, panel.state_index()[trans])
    persons = pd.factorize(panel.data["person_id"].to_numpy()[trans])[0]
    return x, y, persons, panel.lagged_states(1)[trans], trans


def counterfactual(x, term: str):
    """The two designs of a discrete change (level, reference), or None for a numeric column."""
    if "[" not in term:
        return None
    name, level = term[:-1].split("[", 1)
    code = x.levels[name].index(level)
    return tuple(
        type(x)({**x.codes, name: np.full(len(x), c)}, x.levels, x.numeric_names, x.numeric) for c in (code, 0)
    )


def forward_effect(model: MNLogit, x, prev, w, term: str, flat: np.ndarray) -> np.ndarray:
    """An effect through the model's forward pass at parameters ``flat`` (probabilities, move, destinations)."""
    loglinear = copy.deepcopy(model.model_)
    loglinear.load_flat_parameters(flat.reshape(model.model_.flat_parameters().shape))

    def quantities(features) -> np.ndarray:
        p = np.exp(logit_engine.predict_encoded(loglinear, features, prev if model.two_stage else None))
        if not model.two_stage:
            return p
        rows = np.arange(len(p))
        stay = p[rows, prev]
        dest = p.copy()
        dest[rows, prev] = 0
        return np.hstack([p, (1 - stay)[:, None], dest / (1 - stay)[:, None]])

    designs = counterfactual(x, term)
    if designs is None:
        column, h = x.numeric_names.index(term), 1e-4  # truncation error h^2; nested in the Jacobian's differences
        up, down = x.numeric.copy(), x.numeric.copy()
        up[:, column] += h
        down[:, column] -= h
        high = quantities(type(x)(x.codes, x.levels, x.numeric_names, up))
        diff = (high - quantities(type(x)(x.codes, x.levels, x.numeric_names, down))) / (2 * h)
    else:
        diff = quantities(designs[0]) - quantities(designs[1])
    weights = np.ones(len(x)) if w is None else w
    return weights @ diff / weights.sum()


def stacked(effects, term: str, column: str) -> np.ndarray:
    tidy = effects.tidy()
    rows = tidy[tidy["term"] == term]
    order = ["probability", "move", "destination"]
    return rows.sort_values("quantity", key=lambda s: s.map(order.index), kind="stable")[column].to_numpy()


def to_stacked(jacobian: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A Jacobian over the flat (terms x logits) parameters, reordered outcome by outcome."""
    return jacobian.reshape(-1, *shape).transpose(0, 2, 1).reshape(jacobian.shape[0], -1)


def check_forward(model, panel, effects, terms, w, cov) -> tuple[float, float]:
    x, _, _, prev, _ = encoded(model, panel)
    flat = model.model_.flat_parameters()
    worst_effect = worst_se = 0.0
    for term in terms:
        reference = forward_effect(model, x, prev, w, term, flat.ravel())
        worst_effect = max(worst_effect, float(np.abs(stacked(effects, term, "effect") - reference).max()))
        jac = approx_fprime(
            flat.ravel(), lambda t, term=term: forward_effect(model, x, prev, w, term, t), centered=True
        )
        jac = to_stacked(jac, flat.shape)
        se = np.sqrt(np.clip(np.diag(jac @ cov @ jac.T), 0, None))
        rel = np.abs(stacked(effects, term, "std_error") - se) / np.maximum(se, 1e-12)
        worst_se = max(worst_se, float(rel[se > 1e-8].max()))
    return worst_effect, worst_se


def main() -> None:
    wage = datasets.load("wage_panel")
    rows = []
    numeric = MNLogit(features=("years_in_state", "years_observed"), formula="birth_year", engine="statsmodels")
    numeric.fit(wage)
    x, y, persons, _, _ = encoded(numeric, wage)
    for cov_type, sm_cov in (("nonrobust", "nonrobust"), ("cluster", "cluster")):
        kwargs = {"cov_kwds": {"groups": persons}} if cov_type == "cluster" else {}
        ref = SMMNLogit(y, x.design_matrix()).fit(method="newton", disp=False, cov_type=sm_cov, **kwargs)
        margins = ref.get_margeff()
        ours = numeric.marginal_effects(wage, cov_type=cov_type)
        rows.append(
            {
                "check": f"dy/dx vs statsmodels get_margeff ({cov_type})",
                "max |effect diff|": np.abs(ours.params.to_numpy() - margins.margeff).max(),
                "max rel. SE diff": (
                    np.abs(ours.std_errors.to_numpy() - margins.margeff_se) / margins.margeff_se
                ).max(),
            }
        )

    categorical = MNLogit(features=("years_in_state", "static"), engine="statsmodels").fit(wage)
    x, y, _, _, _ = encoded(categorical, wage)
    ref = SMMNLogit(y, x.design_matrix()).fit(method="newton", disp=False)
    ours = categorical.marginal_effects(wage, cov_type="nonrobust")
    worst_effect = worst_se = 0.0
    for term in [t for t in ours.terms if "[" in t]:
        high, low = (d.design_matrix() for d in counterfactual(x, term))

        def ame(params: np.ndarray, high=high, low=low) -> np.ndarray:
            matrix = params.reshape(np.shape(ref.params), order="F")  # statsmodels stacks outcome by outcome
            return (ref.model.predict(matrix, high) - ref.model.predict(matrix, low)).mean(axis=0)

        params = np.asarray(ref.params).ravel(order="F")
        worst_effect = max(worst_effect, float(np.abs(ours.params.loc[term].to_numpy() - ame(params)).max()))
        jac = approx_fprime(params, ame, centered=True)
        se = np.sqrt(np.diag(jac @ np.asarray(ref.cov_params()) @ jac.T))
        worst_se = max(worst_se, float((np.abs(ours.std_errors.loc[term].to_numpy() - se) / se).max()))
    rows.append(
        {
            "check": "categorical levels vs statsmodels predict + numerical Jacobian",
            "max |effect diff|": worst_effect,
            "max rel. SE diff": worst_se,
        }
    )

    two_stage = MNLogit(features=("years_in_state", "static"), two_stage=True).fit(wage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = two_stage.results(wage).bootstrap(20, rng=0)
    effects = two_stage.marginal_effects(wage, results=boot)
    cov = np.nan_to_num(boot.cov.to_numpy())
    worst = check_forward(two_stage, wage, effects, ["years_in_state", "static:race[hispanic]"], None, cov)
    rows.append(
        {
            "check": "two-stage (probabilities, move, destinations) vs forward pass",
            "max |effect diff|": worst[0],
            "max rel. SE diff": worst[1],
        }
    )

    frame = wage.data.copy()
    gen = np.random.default_rng(3)
    frame["weight"] = (0.5 + 2.5 * gen.random(frame["person_id"].max() + 1))[frame["person_id"].to_numpy()]
    weighted = CareerPanel(
        frame,
        covariates=list(wage.covariates),
        static=list(wage.static_covariates),
        weight="weight",
        scheme=wage.scheme,
    )
    model = MNLogit(features=("years_in_state", "years_observed", "static")).fit(weighted, weights="weight")
    effects = model.marginal_effects(weighted, weights="weight", cov_type="cluster")
    _, _, _, _, trans = encoded(model, weighted)
    w = frame["weight"].to_numpy()[trans]
    cov = model.results(weighted, "weight").cov.to_numpy()
    worst = check_forward(model, weighted, effects, ["years_in_state", "static:race[hispanic]"], w, cov)
    rows.append(
        {
            "check": "weighted fit (cluster) vs forward pass",
            "max |effect diff|": worst[0],
            "max rel. SE diff": worst[1],
        }
    )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2e}"))

    nlswork = datasets.load("nlswork")
    _, parts, _ = split_panel(nlswork, rng=0)
    train = parts["train"]
    weights = "weight" if train.has_weight else None
    started = time.perf_counter()
    full = MNLogit().fit(train, weights=weights)
    fitted = time.perf_counter() - started
    started = time.perf_counter()
    effects = full.marginal_effects(train, weights)
    seconds = time.perf_counter() - started
    print(
        f"\nnlswork mnlogit (paper's features, {full.n_transitions_:,} training transitions, "
        f"{len(full.outcomes_)} outcomes): fit {fitted:.1f} s; marginal_effects {seconds:.1f} s "
        f"({len(effects.terms)} contrasts, delta-method SEs clustered by person)"
    )


if __name__ == "__main__":
    main()
