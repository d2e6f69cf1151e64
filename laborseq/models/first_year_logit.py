"""The first-year model of the log-linear baselines: a penalised logit on covariates.

A person's first observed year has no history, so every model predicts it from
covariates alone. :class:`MNLogit` and :class:`BagOfJobs` share this one: a
multinomial logit of the first state on calendar-year, education and static
covariate effects (:data:`~laborseq.models.features.FIRST_YEAR_FEATURES`),
with an L2 penalty so that every state keeps a finite probability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from laborseq.models import logit_engine
from laborseq.models.features import FIRST_YEAR_FEATURES, EncodedFeatures, FeatureEncoder
from laborseq.panel import CareerPanel

if TYPE_CHECKING:
    from laborseq.models.loglinear import LogLinear


def split_targets(panel: CareerPanel) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over rows: first-year targets and transition targets."""
    has_prev = panel.lagged_states(1) >= 0
    target = panel.target_mask
    return target & ~has_prev, target & has_prev


class FirstYearLogit:
    """Penalised multinomial logit of the first observed state.

    Parameters
    ----------
    alpha : float
        L2 penalty (see :func:`~laborseq.models.loglinear.fit_loglinear`).
    device : str
        Torch device.

    Notes
    -----
    With no first-year rows in training (or zero total weight) the model stays
    at its initial parameters: the uniform distribution over states.
    """

    def __init__(self, alpha: float, device: str = "cpu") -> None:
        self.alpha = alpha
        self.device = device

    def fit(self, panel: CareerPanel, rows: np.ndarray, weights: np.ndarray | None) -> FirstYearLogit:
        """Fit on the first-year rows (boolean mask) of ``panel``."""
        self.encoder_ = FeatureEncoder(FIRST_YEAR_FEATURES).fit(panel, rows)
        self.model_ = self._new_model(panel.scheme.n_states)
        w = np.ones(len(panel)) if weights is None else weights
        if rows.any() and w[rows].sum() > 0:
            x = self.encoder_.transform(panel, rows)
            n_states = panel.scheme.n_states
            x, shares, totals = aggregate_rows(x, panel.state_index()[rows], w[rows], n_states)
            settings = {"alpha": self.alpha, "solver": "auto", "max_iter": 300, "tol": 1e-6}
            logit_engine.fit_encoded(self.model_, x, shares, None, totals, device=self.device, **settings)
        return self

    def _new_model(self, n_states: int) -> LogLinear:
        n_levels = {k: len(self.encoder_.levels_[k]) for k in self.encoder_.categorical_}
        model = logit_engine.new_model(
            n_levels, self.encoder_.n_numeric, n_states, two_stage=False, base_class=self.alpha == 0
        )
        return model.to(self.device)

    def predict_proba(self, panel: CareerPanel, rows: np.ndarray) -> np.ndarray:
        """First-state distributions of the rows (boolean mask) of ``panel``."""
        x = self.encoder_.transform(panel, rows)
        return np.exp(logit_engine.predict_encoded(self.model_, x, None, device=self.device))

    def get_state(self, prefix: str = "first.") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON state and arrays (keys prefixed) for saving."""
        arrays = logit_engine.state_arrays(self.model_, prefix)
        return {"encoder": self.encoder_.get_state(), "n_states": self.model_.n_classes}, arrays

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        arrays: dict[str, np.ndarray],
        alpha: float,
        device: str = "cpu",
        prefix: str = "first.",
    ) -> FirstYearLogit:
        """Rebuild from :meth:`get_state` output."""
        model = cls(alpha, device)
        model.encoder_ = FeatureEncoder.from_state(state["encoder"])
        encoder = model.encoder_
        n_levels = {k: len(encoder.levels_[k]) for k in encoder.categorical_}
        model.model_ = logit_engine.load_model(
            arrays, prefix, n_levels, encoder.n_numeric, int(state["n_states"]), two_stage=False, base_class=alpha == 0
        )
        return model


def aggregate_rows(
    features: EncodedFeatures, y: np.ndarray, weights: np.ndarray, n_classes: int
) -> tuple[EncodedFeatures, np.ndarray, np.ndarray]:
    """Rows of identical features merged: their features, outcome shares and total weights.

    The first year's features are a few covariates, so thousands of persons share a few hundred
    combinations; the likelihood :math:`\\sum_i w_i \\log p(y_i \\mid x_i)` is
    :math:`\\sum_c W_c \\sum_j s_{cj} \\log p(j \\mid x_c)` over the combinations :math:`c` (total weight
    :math:`W_c`, outcome shares :math:`s_{cj}`), the same fit on far fewer rows.
    """
    first, group = features.distinct()
    counts = np.bincount(group * n_classes + y, weights, minlength=len(first) * n_classes)
    counts = counts.reshape(len(first), n_classes)
    totals = counts.sum(axis=1)
    keep = totals > 0
    return features.take(first[keep]), counts[keep] / totals[keep, None], totals[keep]
