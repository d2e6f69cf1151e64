"""Occupation schemes, the occ1990dd classification and the Census crosswalks into it."""

from laborseq.occupations.scheme import STATUS_TOKENS, OccupationScheme

__all__ = ["STATUS_TOKENS", "OccupationScheme"]
