"""The canonical career panel: one validated row per person-year, with its lineage."""

from laborseq.panel.columns import OCC, PERSON, TARGET, WEIGHT, YEAR
from laborseq.panel.core import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.panel.validation import PanelValidationError

__all__ = ["OCC", "PERSON", "TARGET", "WEIGHT", "YEAR", "CareerPanel", "Lineage", "PanelValidationError"]
