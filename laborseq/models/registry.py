"""Model names used on the command line and in reports."""

from __future__ import annotations

from collections.abc import Callable

from laborseq.models.bag_of_jobs import BagOfJobs
from laborseq.models.base import SequenceModel
from laborseq.models.career import CAREER
from laborseq.models.marginal import Marginal
from laborseq.models.markov import Markov
from laborseq.models.mnlogit import MNLogit

_FACTORIES: dict[str, Callable[[], SequenceModel]] = {
    "marginal": lambda: Marginal(),
    "markov1": lambda: Markov(order=1),
    "markov2": lambda: Markov(order=2),
    "markov1_two_stage": lambda: Markov(order=1, two_stage=True),
    "markov2_two_stage": lambda: Markov(order=2, two_stage=True),
    "mnlogit": lambda: MNLogit(features="full", alpha=1e-4),
    "mnlogit_two_stage": lambda: MNLogit(features="full", alpha=1e-4, two_stage=True),
    "bag_of_jobs": lambda: BagOfJobs(),
    "career": lambda: CAREER.preset("small"),
}

MODEL_NAMES: tuple[str, ...] = tuple(_FACTORIES)
"""Names accepted by :func:`make_model` and ``laborseq compare --models``."""


def make_model(name: str) -> SequenceModel:
    """A new, unfitted model with the default configuration of ``name``."""
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}") from None
