"""Shared machinery of the count-based models: smoothing check, first-year model, persistence."""

from __future__ import annotations

from typing import Any

import numpy as np

from laborseq.models.base import SequenceModel
from laborseq.models.first_year_counts import InitialStateModel
from laborseq.panel import CareerPanel


class CountModel(SequenceModel):
    """Shared machinery: smoothing check, the first-year model and persistence of counts."""

    smoothing: float
    initial_by: tuple[str, ...] | None

    def _check_params(self) -> None:
        if not np.isfinite(self.smoothing) or self.smoothing < 0:
            raise ValueError(f"smoothing must be a non-negative number, got {self.smoothing!r}")

    def _fit_initial(self, panel: CareerPanel, weights: np.ndarray | None) -> None:
        by = panel.covariates if self.initial_by is None else tuple(self.initial_by)
        first = (panel.lagged_states(1) < 0) & panel.target_mask
        self.initial_ = InitialStateModel(by, self.smoothing).fit(panel, first, weights)

    def _transition_rows(self, panel: CareerPanel) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks over rows: first-year targets and transition targets."""
        has_prev = panel.lagged_states(1) >= 0
        target = panel.target_mask
        return target & ~has_prev, target & has_prev

    def _initial_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return self.initial_.get_state()

    def _restore_initial(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.initial_ = InitialStateModel.from_state(state, arrays, self.smoothing)
