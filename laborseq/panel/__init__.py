"""The canonical career panel: one validated row per person-year, with its lineage."""

from laborseq.panel.core import OCC, PERSON, TARGET, WEIGHT, YEAR, CareerPanel, PanelValidationError
from laborseq.panel.lineage import Lineage

__all__ = ["OCC", "PERSON", "TARGET", "WEIGHT", "YEAR", "CareerPanel", "Lineage", "PanelValidationError"]
