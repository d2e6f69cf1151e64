"""CAREER, the transformer foundation model of careers (Vafa et al., TMLR 2024), and its forecast stepper.

``CAREER`` is loaded on first use, so that importing the presets does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from laborseq.models.career.presets import PRESETS

__all__ = ["CAREER", "PRESETS"]


def __getattr__(name: str) -> Any:
    if name == "CAREER":
        return importlib.import_module("laborseq.models.career.model").CAREER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
