"""laborseq: careers as sequences of occupations, from surveys to foundation models."""

from laborseq._version import __version__
from laborseq.occupations.scheme import STATUS_TOKENS, OccupationScheme
from laborseq.panel import CareerPanel, PanelValidationError

__all__ = ["STATUS_TOKENS", "CareerPanel", "OccupationScheme", "PanelValidationError", "__version__"]
