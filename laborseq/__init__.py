"""laborseq: careers as sequences of occupations, from surveys to foundation models."""

from laborseq.panel import CareerPanel, PanelValidationError
from laborseq.taxonomy import STATUS_TOKENS, OccupationScheme

__version__ = "0.1.0"

__all__ = ["STATUS_TOKENS", "CareerPanel", "OccupationScheme", "PanelValidationError", "__version__"]
