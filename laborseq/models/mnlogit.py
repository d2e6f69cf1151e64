"""Multinomial logit of the next state on hand-built features of the history."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from laborseq.models import logit_engine
from laborseq.models.base import RNGLike, SequenceModel
from laborseq.models.covariance import CovType
from laborseq.models.features import FULL_FEATURES, EncodedFeatures, FeatureEncoder
from laborseq.models.first_year_logit import FirstYearLogit, split_targets
from laborseq.models.inference import mnlogit_results
from laborseq.models.logit_start import markov_start
from laborseq.models.mnlogit_stepper import MNLogitStepper, updatable
from laborseq.panel import CareerPanel
from laborseq.panel.weights import WeightsLike, resolve_weights

if TYPE_CHECKING:
    from collections.abc import Sequence

    from laborseq.models.effects import MarginalEffects
    from laborseq.models.loglinear import LogLinear
    from laborseq.models.results import MNLogitResults
    from laborseq.models.stepper import Stepper
    from laborseq.models.summary import Summary

Engine = Literal["torch", "statsmodels"]


class MNLogit(SequenceModel):
    """Multinomial logit of the next state on features of the history and covariates.

    Results. A fitted model keeps its estimates, not its training data (and a refit
    first deletes every attribute of the earlier fit): inference is a function of
    the model and the data it was fitted on. After
    ``model.fit(train)``, ``model.results(train)`` (with the fit's ``weights=``, and
    ``cov_type="cluster"`` by default) returns an immutable
    :class:`~laborseq.models.results.MNLogitResults` of the transition model in the
    style of linearmodels: ``params`` (design terms x outcome states),
    ``std_errors``, ``zstats``, ``pvalues``, ``conf_int()``, ``cov``, ``loglik``,
    ``pseudo_rsquared``, ``perplexity``, ``summary()`` (text, HTML, LaTeX) and
    ``tidy()``; :func:`~laborseq.models.comparison.compare_results` sets results side by side.
    Standard errors are analytic (score and Hessian in closed form), clustered by
    person by default, for up to
    :data:`~laborseq.models.covariance.MAX_ANALYTIC_PARAMS` parameters; beyond that,
    and for the two-stage head, use the person bootstrap
    ``model.results(train).bootstrap_se(n_boot, rng=...)``. Penalised (``alpha > 0``)
    standard errors are approximate. A model loaded from disk works the same way.

    Parameters
    ----------
    features : "full" or sequence of str
        Feature builders (:mod:`laborseq.models.features`); ``"full"`` is the
        regression baseline of the CAREER paper.
    formula : str, optional
        Extra covariate terms as a formula right-hand side (formulaic), e.g.
        ``"race * education"``; the encoding learned in training is saved and
        reused on new panels, and unseen levels raise an error.
    engine : {"torch", "statsmodels"}
        ``"statsmodels"`` wraps :class:`statsmodels.discrete.discrete_model.MNLogit`
        (unweighted, unpenalised, one-stage; full inference; for a few dozen
        states at most). ``"torch"`` maximises the same likelihood with survey
        weights, an optional L2 penalty and the optional two-stage head, on CPU
        or GPU, for hundreds of states. statsmodels' MNLogit accepts no weights,
        so weighted fits need the torch engine.
    alpha : float, default 0.0
        L2 penalty on the coefficients (intercepts excluded), per unit of mean
        log-likelihood: the torch engine maximises
        :math:`\\bar\\ell(\\theta) - \\tfrac{\\alpha}{2}\\lVert\\beta\\rVert^2`.
    two_stage : bool, default False
        Stay / move parameterisation through the shared head (torch only).
    solver : {"auto", "newton", "lbfgs", "adam"}
        Torch optimiser: trust-region Newton-CG on the dense design
        (:mod:`laborseq.models.logit_newton`; a handful of iterations, for up to
        :data:`~laborseq.models.logit_newton.NEWTON_PARAMETERS` parameters),
        full-batch L-BFGS or minibatch Adam; ``"auto"`` (default) is Newton
        where the problem fits it and L-BFGS beyond.
    max_iter : int
        Iteration limit of the optimiser: Newton or L-BFGS iterations, Adam
        epochs, or statsmodels Newton steps (at most 100).
    tol : float
        Gradient tolerance of L-BFGS.
    first_year_alpha : float, default 1e-3
        L2 penalty of the first-year model.
    dtype : {"float64", "float32"}
        Precision of the torch optimisation; ``"float32"`` halves memory traffic
        for hundreds of states (the fitted model is kept in float64).
    device : str
        Torch device (``"cpu"``, ``"cuda"``).

    Attributes
    ----------
    encoder_ : FeatureEncoder
        The feature encoding learned in training.
    outcomes_ : numpy.ndarray
        Indices of the states with parameters (every state when ``alpha > 0``).
    model_ : LogLinear
        The transition model (float64).
    first_year_ : FirstYearLogit
        The first-year model.
    fit_info_ : dict
        ``objective``, ``iterations`` and ``converged`` of the optimiser.
    n_transitions_ : int
        Number of training transitions.
    weight_total_ : float or None
        Their total weight (``None``: fitted without weights); :meth:`results` checks
        the data it is given against these two.
    fit_seconds_ : float
        Duration of the fit.

    Notes
    -----
    For a target person-year :math:`t` after the first, with dummy-coded
    features :math:`x_t`,

    .. math::

        P(y_t = j \\mid x_t) = \\frac{\\exp(x_t^\\top \\beta_j)}{\\sum_k \\exp(x_t^\\top \\beta_k)},
        \\qquad \\beta_{j_0} = 0

    for the base outcome :math:`j_0` (the first state observed as an outcome).
    Without a penalty, states never observed as an outcome in training have no
    finite estimate: they are left out of the outcome set and get probability
    zero (use ``alpha > 0`` to keep every state). The first observed year is
    predicted by a separate penalised multinomial logit on the covariates
    (calendar year, education, static covariates) with the torch engine.
    """

    def __init__(
        self,
        features: str | tuple[str, ...] = "full",
        formula: str | None = None,
        engine: Engine = "torch",
        alpha: float = 0.0,
        two_stage: bool = False,
        solver: Literal["auto", "newton", "lbfgs", "adam"] = "auto",
        max_iter: int = 1000,
        tol: float = 1e-9,
        first_year_alpha: float = 1e-3,
        dtype: Literal["float64", "float32"] = "float64",
        device: str = "cpu",
    ) -> None:
        self.features = features
        self.formula = formula
        self.engine = engine
        self.alpha = alpha
        self.two_stage = two_stage
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.first_year_alpha = first_year_alpha
        self.dtype = dtype
        self.device = device

    def _check_params(self) -> None:
        if self.engine not in ("torch", "statsmodels"):
            raise ValueError(f"engine must be 'torch' or 'statsmodels', got {self.engine!r}")
        if self.alpha < 0 or self.first_year_alpha < 0:
            raise ValueError("alpha and first_year_alpha must be non-negative")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        if self.engine == "statsmodels" and (self.alpha > 0 or self.two_stage):
            raise ValueError("engine='statsmodels' fits the unpenalised one-stage model; use engine='torch'")

    @property
    def _feature_names(self) -> tuple[str, ...]:
        return FULL_FEATURES if self.features == "full" else tuple(self.features)

    # ------------------------------------------------------------------ fitting
    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)  # a refit keeps nothing of an earlier fit
        if self.engine == "statsmodels" and weights is not None:
            raise ValueError("statsmodels' MNLogit accepts no weights: use engine='torch' for a weighted fit")
        started = time.perf_counter()
        first, trans = split_targets(panel)
        if not trans.any():
            raise ValueError("MNLogit needs at least one transition (a person observed twice) to fit")
        n_states = panel.scheme.n_states
        states = panel.state_index()

        self.encoder_ = FeatureEncoder(self._feature_names, formula=self.formula).fit(panel, trans)
        x = self.encoder_.transform(panel, trans)
        y = states[trans]
        if self.alpha > 0 or self.two_stage:
            self.outcomes_ = np.arange(n_states)
        else:
            self.outcomes_ = np.unique(y)
        y_out = np.searchsorted(self.outcomes_, y)
        w = None if weights is None else weights[trans]
        prev = self._prev_in_outcomes(panel, trans)
        if self.engine == "statsmodels":
            self.model_, self.fit_info_ = self._fit_statsmodels(x, y_out)
        else:
            self.model_, self.fit_info_ = self._fit_torch(x, y_out, prev, w, self.alpha, self.two_stage)

        self.first_year_ = FirstYearLogit(self.first_year_alpha, self.device).fit(panel, first, weights)
        self.n_transitions_ = int(trans.sum())
        self.weight_total_ = None if w is None else float(w.sum())  # results() checks the data it is given
        self.fit_seconds_ = time.perf_counter() - started

    def _prev_in_outcomes(self, panel: CareerPanel, rows: np.ndarray) -> np.ndarray | None:
        if not self.two_stage:
            return None
        return panel.lagged_states(1)[rows]

    def _new_loglinear(self, x: EncodedFeatures, n_classes: int, two_stage: bool, base_class: bool) -> LogLinear:
        n_levels = {k: len(v) for k, v in x.levels.items()}
        return logit_engine.new_model(
            n_levels, x.numeric.shape[1], n_classes, two_stage=two_stage, base_class=base_class, device=self.device
        )

    def _fit_torch(
        self,
        x: EncodedFeatures,
        y: np.ndarray,
        prev: np.ndarray | None,
        weights: np.ndarray | None,
        alpha: float,
        two_stage: bool,
    ) -> tuple[LogLinear, dict[str, Any]]:
        model = self._new_loglinear(x, len(self.outcomes_), two_stage, base_class=alpha == 0)
        start = markov_start(x, y, prev, weights, len(self.outcomes_), two_stage=two_stage, base_class=alpha == 0)
        model.load_flat_parameters(start)
        settings = {"solver": self.solver, "max_iter": self.max_iter, "tol": self.tol, "epochs": self.max_iter}
        info = logit_engine.fit_encoded(
            model, x, y, prev, weights, precision=self.dtype, device=self.device, alpha=alpha, **settings
        )
        return model, info

    def _fit_statsmodels(self, x: EncodedFeatures, y: np.ndarray) -> tuple[LogLinear, dict[str, Any]]:
        # statsmodels is imported only when its engine runs: importing the model stays light
        from statsmodels.discrete.discrete_model import MNLogit as SMMNLogit  # noqa: PLC0415

        design = x.design_matrix()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence problems are raised below, with advice
            result = SMMNLogit(y, design).fit(method="newton", maxiter=min(self.max_iter, 100), disp=False)
        model = self._new_loglinear(x, len(self.outcomes_), two_stage=False, base_class=True)
        model.load_flat_parameters(np.asarray(result.params))
        converged = bool(result.mle_retvals.get("converged", False))
        if not (converged and np.isfinite(result.llf) and np.all(np.isfinite(result.params))):
            raise RuntimeError(
                f"statsmodels MNLogit found no finite maximum in {self.max_iter} Newton steps: some feature "
                "level probably never occurs with some outcome (perfect separation), so the unpenalised MLE "
                "does not exist; use fewer features or engine='torch' with alpha > 0"
            )
        return model, {
            "objective": float(-result.llf / len(y)),
            "iterations": result.mle_retvals.get("iterations"),
            "converged": converged,
        }

    # ------------------------------------------------------------------ results (laborseq.models.inference)
    def results(
        self, panel: CareerPanel, weights: WeightsLike = None, *, cov_type: CovType = "cluster"
    ) -> MNLogitResults:
        """Estimates, standard errors and fit statistics of the transition model on its training data.

        The model keeps no reference to the data it was fitted on, so they are passed
        here: ``model.results(train)`` after ``model.fit(train)`` (and the same
        ``weights`` as the fit). Each call computes the covariance afresh.

        Parameters
        ----------
        panel : CareerPanel
            The panel the model was fitted on (a loaded model too: the data are not saved).
        weights : str, array or Series, optional
            The weights of that fit, as passed to :meth:`fit`.
        cov_type : {"cluster", "robust", "nonrobust"}
            Covariance: clustered by person (default), heteroskedasticity-robust
            sandwich (statsmodels' ``HC0``) or the inverse information matrix.

        Returns
        -------
        MNLogitResults
            See :mod:`laborseq.models.results`; they keep ``panel`` for their
            :meth:`~laborseq.models.results.MNLogitResults.bootstrap`.

        Raises
        ------
        ValueError
            When ``panel`` and ``weights`` are not the fit's (another number of
            transitions, weights when the fit had none or other weights), or
            ``cov_type`` is unknown.
        """
        self._check_panel(panel)
        return mnlogit_results(self, panel, resolve_weights(panel, weights), cov_type)

    def summary(
        self, panel: CareerPanel, weights: WeightsLike = None, *, cov_type: CovType = "cluster", **kwargs: Any
    ) -> Summary:
        """``results(panel, weights, cov_type=...).summary(**kwargs)``: header and coefficient tables.

        Parameters
        ----------
        panel : CareerPanel
            The panel the model was fitted on.
        weights : str, array or Series, optional
            The weights of that fit.
        cov_type : {"cluster", "robust", "nonrobust"}
            Covariance of the standard errors.
        **kwargs
            Arguments of :meth:`~laborseq.models.results.MNLogitResults.summary`.

        Returns
        -------
        Summary
            Renders as text (``str``), HTML and LaTeX.
        """
        return self.results(panel, weights, cov_type=cov_type).summary(**kwargs)

    def marginal_effects(
        self,
        panel: CareerPanel,
        weights: WeightsLike = None,
        *,
        variables: Sequence[str] | None = None,
        binary: Literal["change", "dydx"] = "change",
        se: Literal["delta", "bootstrap"] = "delta",
        cov_type: CovType = "cluster",
        results: MNLogitResults | None = None,
        n_boot: int = 200,
        rng: RNGLike = None,
    ) -> MarginalEffects:
        """Average marginal effects of the covariates on the probability of each next state.

        For each feature (each non-reference level of a categorical one), the average
        over the training transitions (weighted by the fit's weights) of the change in
        the predicted probability of every outcome: a discrete change from the reference
        level for categorical features, from 0 to 1 for 0/1 features (``gap``,
        ``education_change``) and the derivative for other numeric features, the other
        features held at their observed values (Stata's ``margins, dydx(*)``). With the
        two-stage head, also the effects on the move probability and on the destination
        shares given a move. See :mod:`laborseq.models.effects`.

        Parameters
        ----------
        panel : CareerPanel
            The panel the model was fitted on.
        weights : str, array or Series, optional
            The weights of that fit.
        variables : sequence of str, optional
            Features to take effects of (``education``, ``static:race``, ``years_in_state``,
            ``formula:age``; ``"static"`` for every static covariate). By default every
            feature but the state and calendar-year dummies
            (:data:`~laborseq.models.contrasts.HISTORY_DUMMIES`).
        binary : {"change", "dydx"}
            Effect of a 0/1 numeric feature: the change from 0 to 1, or the derivative.
        se : {"delta", "bootstrap"}
            Standard errors by the delta method (with the covariance of ``results``) or
            by the person bootstrap (``n_boot`` refits).
        cov_type : {"cluster", "robust", "nonrobust"}
            Covariance of the parameters for the delta method when ``results`` is not given.
        results : MNLogitResults, optional
            Results whose covariance the delta method uses, e.g.
            ``model.results(train).bootstrap(200, rng=0)`` for the two-stage head, which
            has no analytic covariance.
        n_boot : int
            Bootstrap refits (``se="bootstrap"``).
        rng : int or numpy.random.Generator, optional
            Seed of the bootstrap.

        Returns
        -------
        MarginalEffects
            ``summary()`` (text, HTML, LaTeX), ``tidy()``, ``params`` and ``std_errors``
            (terms x outcomes); :func:`~laborseq.models.comparison.compare_results` sets
            several side by side.
        """
        # the effects module loads torch through the logit engine when it computes; imported when called
        from laborseq.models.effects import marginal_effects  # noqa: PLC0415

        self._check_panel(panel)
        resolved = resolve_weights(panel, weights)
        if results is None:  # the delta method's covariance comes from the same pass over the data
            results = mnlogit_results(self, panel, resolved, cov_type, identified=se == "delta")
        return marginal_effects(
            self, results, panel, resolved, variables=variables, binary=binary, se=se, n_boot=n_boot, rng=rng
        )

    # ------------------------------------------------------------------ prediction
    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        first, trans = split_targets(panel)
        n_states = len(self.classes_)
        out = np.zeros((len(panel), n_states))
        if trans.any():
            x = self.encoder_.transform(panel, trans)
            logp = logit_engine.predict_encoded(
                self.model_, x, self._prev_in_outcomes(panel, trans), device=self.device
            )
            block = np.zeros((int(trans.sum()), n_states))
            block[:, self.outcomes_] = np.exp(logp)
            out[trans] = block
        if first.any():
            out[first] = self.first_year_.predict_proba(panel, first)
        return out[panel.target_mask]

    def _stepper(self, history: CareerPanel, n_samples: int) -> Stepper:
        """Forecast stepper: features updated year by year (:mod:`laborseq.models.mnlogit_stepper`); with formula
        terms, the generic stepper that rebuilds them from the histories."""
        if updatable(self):
            return MNLogitStepper(self, history, n_samples)
        return super()._stepper(history, n_samples)

    # ------------------------------------------------------------------ persistence
    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = logit_engine.state_arrays(self.model_, "trans.")
        first_state, first_arrays = self.first_year_.get_state()
        arrays.update(first_arrays)
        arrays["outcomes"] = np.asarray(self.outcomes_)
        state = {
            "encoder": self.encoder_.get_state(),
            "first_year": first_state,
            "fit_info": self.fit_info_,
            "n_transitions": self.n_transitions_,
            "weight_total": self.weight_total_,
            "fit_seconds": self.fit_seconds_,
        }
        return state, arrays

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = FeatureEncoder.from_state(state["encoder"])
        self.outcomes_ = arrays["outcomes"]
        self.fit_info_ = state["fit_info"]
        self.n_transitions_ = state["n_transitions"]
        if "weight_total" in state:  # absent from models saved before it was recorded
            self.weight_total_ = state["weight_total"]
        self.fit_seconds_ = state["fit_seconds"]
        self.model_ = _restore(arrays, "trans.", self.encoder_, len(self.outcomes_), self.two_stage, self.alpha == 0)
        self.first_year_ = FirstYearLogit.from_state(state["first_year"], arrays, self.first_year_alpha, self.device)


def _restore(
    arrays: dict[str, np.ndarray], prefix: str, encoder: FeatureEncoder, n_classes: int, two_stage: bool, base: bool
) -> LogLinear:
    """The transition model saved under ``prefix`` in ``arrays``."""
    n_levels = {k: len(encoder.levels_[k]) for k in encoder.categorical_}
    return logit_engine.load_model(
        arrays, prefix, n_levels, encoder.n_numeric, n_classes, two_stage=two_stage, base_class=base
    )
