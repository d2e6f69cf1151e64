"""Real career panels that load offline from installed packages."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from laborseq.datasets import mvad, nlswork, wage_panel
from laborseq.datasets.mvad import load_mvad
from laborseq.datasets.nlswork import load_nlswork, load_nlswork_wages
from laborseq.datasets.wage_panel import load_wage_panel, load_wage_panel_wages
from laborseq.panel import CareerPanel

LOADERS: dict[str, Callable[[], CareerPanel]] = {
    "nlswork": load_nlswork,
    "wage_panel": load_wage_panel,
    "mvad": load_mvad,
}
"""Bundled panels by name."""

DESCRIPTIONS: dict[str, str] = {"nlswork": nlswork.DESCR, "wage_panel": wage_panel.DESCR, "mvad": mvad.DESCR}

WAGE_LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "nlswork": load_nlswork_wages,
    "wage_panel": load_wage_panel_wages,
}
"""Wages of the bundled panels, one row per panel row indexed by ``(person_id, year)``."""


def load(name: str) -> CareerPanel:
    """Load a bundled panel by name (``"nlswork"``, ``"wage_panel"`` or ``"mvad"``, which needs ``sequenzo``)."""
    try:
        return LOADERS[name]()
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; bundled panels are {sorted(LOADERS)}") from None


def load_wages(name: str) -> pd.DataFrame:
    """Log wages, experience and schooling of a bundled panel's person-years (``"nlswork"`` or ``"wage_panel"``)."""
    try:
        return WAGE_LOADERS[name]()
    except KeyError:
        raise ValueError(f"no bundled wages for {name!r}; they exist for {sorted(WAGE_LOADERS)}") from None


__all__ = [
    "DESCRIPTIONS",
    "LOADERS",
    "WAGE_LOADERS",
    "load",
    "load_mvad",
    "load_nlswork",
    "load_nlswork_wages",
    "load_wage_panel",
    "load_wage_panel_wages",
    "load_wages",
]
