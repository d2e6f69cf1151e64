"""Sequence models of careers behind one estimator contract.

The count models and the logit import without torch; ``CAREER``, ``CareerEnsemble``, ``BagOfJobs``,
``TrueProcessModel`` and the torch two-stage head load on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

from laborseq.models.base import NotFittedError, SequenceModel, clone, load_model
from laborseq.models.checks import check_model
from laborseq.models.marginal import Marginal
from laborseq.models.markov import Markov
from laborseq.models.mnlogit import MNLogit
from laborseq.models.registry import MODEL_NAMES, make_model

_LAZY: dict[str, tuple[str, str]] = {
    "CAREER": ("laborseq.models.career.model", "CAREER"),
    "CareerEnsemble": ("laborseq.models.career.ensemble", "CareerEnsemble"),
    "BagOfJobs": ("laborseq.models.bag_of_jobs", "BagOfJobs"),
    "TrueProcessModel": ("laborseq.models.oracle", "TrueProcessModel"),
    "two_stage_log_probs": ("laborseq.nn.heads", "two_stage_log_probs"),
}

__all__ = [
    "CAREER",
    "MODEL_NAMES",
    "BagOfJobs",
    "CareerEnsemble",
    "MNLogit",
    "Marginal",
    "Markov",
    "NotFittedError",
    "SequenceModel",
    "TrueProcessModel",
    "check_model",
    "clone",
    "load_model",
    "make_model",
    "two_stage_log_probs",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
