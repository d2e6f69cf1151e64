"""Real career panels that load offline from installed packages."""

from __future__ import annotations

from collections.abc import Callable

from laborseq.datasets import nlswork, wage_panel
from laborseq.datasets.nlswork import load_nlswork
from laborseq.datasets.wage_panel import load_wage_panel
from laborseq.panel import CareerPanel

LOADERS: dict[str, Callable[[], CareerPanel]] = {"nlswork": load_nlswork, "wage_panel": load_wage_panel}
"""Bundled panels by name."""

DESCRIPTIONS: dict[str, str] = {"nlswork": nlswork.DESCR, "wage_panel": wage_panel.DESCR}


def load(name: str) -> CareerPanel:
    """Load a bundled panel by name (``"nlswork"`` or ``"wage_panel"``)."""
    try:
        return LOADERS[name]()
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; bundled panels are {sorted(LOADERS)}") from None


__all__ = ["DESCRIPTIONS", "LOADERS", "load", "load_nlswork", "load_wage_panel"]
