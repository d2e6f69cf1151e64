"""A whole model-comparison study: the held-out comparison, its breakdowns and the optional sections.

:func:`laborseq.pipeline.run_comparison` builds a :class:`ComparisonStudy`;
:func:`laborseq.report.comparison.write_comparison_report` renders it. Every
statistic of the comparison is computed before the study exists; the report only formats and draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from laborseq._util.json import json_records
from laborseq.evaluation.breakdowns import Breakdowns
from laborseq.evaluation.comparison import ComparisonResult
from laborseq.forecast.comparison import ForecastComparison
from laborseq.models.effects import MarginalEffects
from laborseq.panel import CareerPanel
from laborseq.studies.rationale_study import RationaleStudy
from laborseq.studies.sequences import SequenceDescription
from laborseq.studies.wages import WageStudy

__all__ = ["ComparisonStudy"]


@dataclass(frozen=True)
class ComparisonStudy:
    """Everything a comparison report shows.

    Attributes
    ----------
    panel : CareerPanel
        The panel that was split (the random subset of persons when the study sampled some).
    splits : dict of str to CareerPanel
        Its parts (``train``, ``valid``, ``test``).
    split : dict
        How the split was made (``method``, ``fractions``, ``seed``, ...).
    comparison : ComparisonResult
        The held-out comparison (scores, fitted models, predictions).
    breakdowns : Breakdowns
        Where the models differ (computed from ``comparison``).
    forecast : ForecastComparison, optional
        Careers simulated past an origin year, scored against what happened.
    wages : WageStudy, optional
        Career representations in Mincer wage equations.
    rationales : RationaleStudy, optional
        Rationales of CAREER's held-out predictions.
    sequences : SequenceDescription, optional
        The panel's sequences before any model (chronogram, index plot, entropy).
    effects : MarginalEffects, optional
        Average marginal effects of the compared multinomial logit (``mnlogit``).
    command : str, optional
        The command line that ran the study, for the record.
    seconds : float
        Wall time of the study.
    """

    panel: CareerPanel
    splits: dict[str, CareerPanel]
    split: dict[str, Any]
    comparison: ComparisonResult
    breakdowns: Breakdowns
    forecast: ForecastComparison | None = None
    wages: WageStudy | None = None
    rationales: RationaleStudy | None = None
    sequences: SequenceDescription | None = None
    effects: MarginalEffects | None = None
    command: str | None = None
    seconds: float = field(default=float("nan"))

    def to_dict(self) -> dict[str, Any]:
        """The content of ``results.json``.

        Keys: ``data`` (panel name), ``split`` (method, fractions, seed and, per
        part, persons, person-years and targets), ``models`` (per model:
        perplexity, interval, transitions-only perplexity, differences against
        the best model and the baseline, targets, parameters, fit seconds, ...),
        ``best``, ``baseline``, ``bootstrap``, ``weighted``, ``unweighted`` (the
        headline without weights, for weighted comparisons), ``diagnostics``
        (perplexity by breakdown, stay/move, top-k, calibration, transition
        rates), ``forecast``, ``wages``, ``rationales`` and ``marginal_effects`` (when present),
        ``panel`` (:meth:`CareerPanel.describe`), ``lineage``, ``environment``
        and ``command``.
        """
        result = self.comparison
        summary = result.to_dict()
        parts = {
            name: {"persons": p.n_persons, "person_years": len(p), "targets": p.n_targets}
            for name, p in self.splits.items()
        }
        out: dict[str, Any] = {
            "data": self.panel.name,
            "split": {**self.split, **parts},
            "models": summary["models"],
            "best": summary["best"],
            "baseline": summary["baseline"],
            "bootstrap": summary["bootstrap"],
            "weighted": summary["weighted"],
            "diagnostics": self.breakdowns.to_dict(),
            "panel": self.panel.describe().to_dict(),
            "lineage": self.panel.metadata.get("lineage"),
            "environment": summary["environment"],
            "command": self.command,
        }
        if result.weighted:
            out["unweighted"] = json_records(result.headline("none"))
        if self.forecast is not None:
            out["forecast"] = self.forecast.to_dict()
        if self.wages is not None:
            out["wages"] = self.wages.to_dict()
        if self.rationales is not None:
            out["rationales"] = self.rationales.to_dict()
        if self.effects is not None:
            out["marginal_effects"] = {
                "model": "mnlogit",
                "standard_errors": self.effects.se_type,
                "note": self.effects.se_note,
                "effects": json_records(self.effects.tidy(), index=False),
            }
        return out
