"""CAREER, the transformer foundation model of careers (Vafa et al., TMLR 2024), its forecast stepper, and the
``auto`` recipe (:class:`CareerEnsemble`).

``CAREER`` and ``CareerEnsemble`` are loaded on first use, so that importing the presets does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from laborseq.models.career.presets import AUTO, PRESETS

__all__ = ["AUTO", "CAREER", "PRESETS", "CareerEnsemble"]


def __getattr__(name: str) -> Any:
    if name == "CAREER":
        return importlib.import_module("laborseq.models.career.model").CAREER
    if name == "CareerEnsemble":
        return importlib.import_module("laborseq.models.career.ensemble").CareerEnsemble
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
