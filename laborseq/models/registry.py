"""Model names used on the command line and in reports, and the default configuration of each."""

from __future__ import annotations

import importlib
from typing import Any

from laborseq.models.base import SequenceModel
from laborseq.models.career.presets import AUTO as CAREER_AUTO

_SPECS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "marginal": ("laborseq.models.marginal", "Marginal", {}),
    "markov1": ("laborseq.models.markov", "Markov", {"order": 1}),
    "markov2": ("laborseq.models.markov", "Markov", {"order": 2}),
    "markov1_two_stage": ("laborseq.models.markov", "Markov", {"order": 1, "two_stage": True}),
    "markov2_two_stage": ("laborseq.models.markov", "Markov", {"order": 2, "two_stage": True}),
    "mnlogit": ("laborseq.models.mnlogit", "MNLogit", {"features": "full", "alpha": 1e-4}),
    "mnlogit_two_stage": ("laborseq.models.mnlogit", "MNLogit", {"features": "full", "alpha": 1e-4, "two_stage": True}),
    "bag_of_jobs": ("laborseq.models.bag_of_jobs", "BagOfJobs", {}),
    "career": ("laborseq.models.career.ensemble", "CareerEnsemble", CAREER_AUTO),
}
"""Module, class and keyword arguments of each named model (imported when made, so torch loads only for
the models that need it)."""

MODEL_NAMES: tuple[str, ...] = tuple(_SPECS)
"""Names accepted by :func:`make_model` and ``laborseq compare --models``."""


def make_model(name: str, **overrides: Any) -> SequenceModel:
    """A new, unfitted model with the default configuration of ``name`` (and any parameter ``overrides``)."""
    try:
        module, cls, params = _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}") from None
    return getattr(importlib.import_module(module), cls)(**{**params, **overrides})
