"""Read-only views of a panel: flat per-person arrays and summary statistics.

:class:`SequenceArrays` is what :meth:`~laborseq.panel.core.CareerPanel.sequences`
returns and :class:`PanelDescription` what
:meth:`~laborseq.panel.core.CareerPanel.describe` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from laborseq.panel.periods import period_label, unit_name


@dataclass(frozen=True)
class SequenceArrays:
    """A panel as flat arrays, one segment per person (CSR layout).

    Attributes
    ----------
    person_ids : numpy.ndarray
        Person key of each sequence, shape ``(n_persons,)``.
    offsets : numpy.ndarray
        ``states[offsets[i]:offsets[i + 1]]`` is person ``i``'s sequence; shape
        ``(n_persons + 1,)`` (a copy of
        :meth:`~laborseq.panel.core.CareerPanel.person_offsets`).
    states : numpy.ndarray
        State index (into ``scheme.states``) of every person-year, int32.
    years : numpy.ndarray
        Calendar year of every person-year, int16.
    target : numpy.ndarray
        Whether each person-year is a target (scored) or context only.
    """

    person_ids: np.ndarray
    offsets: np.ndarray
    states: np.ndarray
    years: np.ndarray
    target: np.ndarray

    def __len__(self) -> int:
        return len(self.person_ids)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.states[self.offsets[i] : self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """Number of person-years of each sequence."""
        return np.diff(self.offsets)


@dataclass(frozen=True)
class PanelDescription:
    """Summary statistics of a panel (see :meth:`~laborseq.panel.core.CareerPanel.describe`)."""

    name: str | None
    scheme: str
    n_persons: int
    n_person_years: int
    n_targets: int
    years: list[int]
    rows_per_person: dict[str, float]
    gap_counts: dict[int, int]
    persons_with_gaps: int
    state_shares: pd.Series
    covariates: dict[str, str]
    weight: str | None
    time_unit: str = "year"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "name": self.name,
            "scheme": self.scheme,
            "n_persons": self.n_persons,
            "n_person_years": self.n_person_years,
            "n_targets": self.n_targets,
            "years": self.years,
            "rows_per_person": self.rows_per_person,
            "gap_counts": {str(k): v for k, v in self.gap_counts.items()},
            "persons_with_gaps": self.persons_with_gaps,
            "state_shares": {str(k): float(v) for k, v in self.state_shares.items()},
            "covariates": self.covariates,
            "weight": self.weight,
            "time_unit": self.time_unit,
        }

    def __str__(self) -> str:
        return self.format()

    def format(self, top: int = 15) -> str:
        """The description as text, listing the ``top`` most common states and how many more there are."""
        years, unit = self.years, self.time_unit
        first, last = (period_label(years[0], unit), period_label(years[-1], unit)) if years else ("", "")
        sep = "-" if unit == "year" else " to "
        span = f"{first}{sep}{last} ({len(years)} distinct {unit_name(unit, plural=True)})" if years else "none"
        short = {"year": "yr", "month": "mo"}[unit]
        gaps = ", ".join(f"{k} {short}: {v:,}" for k, v in sorted(self.gap_counts.items()))
        covs = ", ".join(f"{k} ({v})" for k, v in self.covariates.items()) or "none"
        rpp = self.rows_per_person
        lines = [
            f"CareerPanel {self.name or ''}".rstrip(),
            f"  scheme            {self.scheme}",
            f"  persons           {self.n_persons:,}",
            f"  {'person-' + unit + 's':<18}{self.n_person_years:,} ({self.n_targets:,} targets)",
            f"  {unit + 's':<18}{span}",
            f"  rows per person   min {rpp['min']:.0f}, median {rpp['median']:.0f}, max {rpp['max']:.0f}",
            f"  gaps between obs  {gaps or 'none'}",
            f"  persons with gaps {self.persons_with_gaps:,}",
            f"  covariates        {covs}",
            f"  weight            {self.weight or 'none'}",
            f"  states            {len(self.state_shares):,} observed",
            "  state shares" + (f" (the {top} most common)" if len(self.state_shares) > top else ""),
        ]
        for state, share in self.state_shares.iloc[:top].items():
            lines.append(f"    {state!s:<24} {share:.4f}")
        rest = self.state_shares.iloc[top:]
        if len(rest):
            lines.append(f"    ... and {len(rest):,} more states (together {rest.sum():.4f})")
        return "\n".join(lines)
