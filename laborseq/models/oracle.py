"""The true process of synthetic careers as a model: the oracle every fitted model is measured against.

:class:`TrueProcessModel` wraps a :class:`~laborseq.synthetic.process.SyntheticCareers`
process behind the :class:`~laborseq.models.base.SequenceModel` contract, so that
:func:`laborseq.evaluation.comparison.compare` can score it beside fitted models (as model
``"oracle"``). It learns nothing: its predictions are the exact conditional
distributions of the process, and its perplexity on a panel drawn from the
process is the lowest any model can reach in expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from laborseq.models.base import RNGLike, SequenceModel
from laborseq.panel import CareerPanel
from laborseq.synthetic import SyntheticCareers, TrueParameters
from laborseq.synthetic.encoding import state_positions


class TrueProcessModel(SequenceModel):
    """The exact next-state distributions of a synthetic career process.

    Parameters
    ----------
    process : mapping
        The process's configuration, :meth:`SyntheticCareers.config` (use
        :meth:`from_process` to build one
        from a process object).
    population : str, optional
        Population the scored persons come from (it sets the latent type mix);
        by default each panel's ``metadata["synthetic"]["population"]``.

    Notes
    -----
    :meth:`fit` only checks that the panel's states include the process's and
    records them. Saving stores the configuration and the parameter arrays, so
    a loaded model predicts exactly as the saved one even if the random number
    streams of numpy change.
    """

    family = "oracle"

    def __init__(self, process: Mapping[str, Any] | None = None, population: str | None = None) -> None:
        self.process = process
        self.population = population

    @classmethod
    def from_process(cls, process: SyntheticCareers, population: str | None = None) -> TrueProcessModel:
        """The oracle of ``process`` (its parameter arrays are used as they are)."""
        model = cls(process.config(), population)
        model._process = process
        return model

    def _check_params(self) -> None:
        if self.process is None:
            raise ValueError("TrueProcessModel needs the process configuration (see TrueProcessModel.from_process)")

    def _build_process(self) -> SyntheticCareers:
        given = getattr(self, "_process", None)
        if given is not None and given.config() == dict(self.process):
            return given
        return SyntheticCareers.from_config(self.process)

    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        process = self._build_process()
        state_positions(process.states, panel.states)  # raises when the panel cannot hold the process's states
        self.process_ = process

    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        return self.process_.predict_proba(panel, self.population)

    def log_likelihood(self, panel: CareerPanel) -> np.ndarray:
        """Exact log-probabilities of the targets (without building the full distributions)."""
        self._check_panel(panel)
        return self.process_.log_likelihood(panel, self.population)

    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, self.process_.params.to_arrays()

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        process = SyntheticCareers.from_config(self.process)
        self.process_ = process.with_parameters(TrueParameters(**arrays))
