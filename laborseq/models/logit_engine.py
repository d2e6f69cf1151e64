"""The torch engine of the log-linear models (:class:`~laborseq.models.MNLogit`, the first-year logit), on demand.

``from laborseq.models import MNLogit`` must not import torch, yet every logit is
fitted and evaluated by :mod:`laborseq.models.loglinear` (torch). The functions
here take and return numpy arrays and encoded features, and load that module
the first time one of them runs: the logit family's one deferred import.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from laborseq.models.features import EncodedFeatures

if TYPE_CHECKING:
    from laborseq.models.loglinear import LogLinear

__all__ = ["average_effects", "fit_encoded", "load_model", "new_model", "predict_encoded", "state_arrays"]


def _margins() -> ModuleType:
    # deferred for the same reason as _engine: average marginal effects are computed in torch
    from laborseq.models import margins  # noqa: PLC0415

    return margins


def _engine() -> ModuleType:
    # The deferred import: torch loads when a logit is first fitted, used or restored, so that importing
    # the logit models (and laborseq.models) stays light.
    from laborseq.models import loglinear  # noqa: PLC0415

    return loglinear


def new_model(
    n_levels: dict[str, int],
    n_numeric: int,
    n_classes: int,
    *,
    two_stage: bool,
    base_class: bool,
    device: str = "cpu",
) -> LogLinear:
    """An unfitted :class:`~laborseq.models.loglinear.LogLinear` on ``device``."""
    model = _engine().LogLinear(n_levels, n_numeric, n_classes, two_stage=two_stage, base_class=base_class)
    return model.to(device)


def fit_encoded(model: LogLinear, features: EncodedFeatures, y: np.ndarray, *args: Any, **kwargs: Any) -> dict:
    """:func:`laborseq.models.loglinear.fit_encoded`: fit ``model`` in place, return the fit's record."""
    return _engine().fit_encoded(model, features, y, *args, **kwargs)


def predict_encoded(model: LogLinear, features: EncodedFeatures, prev: np.ndarray | None, **kwargs: Any) -> np.ndarray:
    """:func:`laborseq.models.loglinear.predict_encoded`: log-probabilities of encoded rows (float64)."""
    return _engine().predict_encoded(model, features, prev, **kwargs)


def state_arrays(model: LogLinear, prefix: str) -> dict[str, np.ndarray]:
    """:func:`laborseq.models.loglinear.state_arrays`: the parameters as numpy arrays, keys prefixed."""
    return _engine().state_arrays(model, prefix)


def load_model(
    arrays: dict[str, np.ndarray],
    prefix: str,
    n_levels: dict[str, int],
    n_numeric: int,
    n_classes: int,
    *,
    two_stage: bool,
    base_class: bool,
) -> LogLinear:
    """A model restored from the arrays :func:`state_arrays` wrote under ``prefix``."""
    model = new_model(n_levels, n_numeric, n_classes, two_stage=two_stage, base_class=base_class)
    return _engine().load_state_arrays(model, arrays, prefix)


def average_effects(
    model: LogLinear,
    features: EncodedFeatures,
    prev: np.ndarray | None,
    weights: np.ndarray | None,
    *args: Any,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`laborseq.models.margins.average_effects`: average marginal effects and their Jacobian."""
    return _margins().average_effects(model, features, prev, weights, *args, **kwargs)
