"""Readers that turn survey exports and resume spells into harmonised panels."""

from laborseq.sources.harmonize import CANDIDATE_COLUMNS, SpecialCode, harmonize

__all__ = ["CANDIDATE_COLUMNS", "SpecialCode", "harmonize"]
