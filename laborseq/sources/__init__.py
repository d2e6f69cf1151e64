"""Readers that turn survey exports and resume spells into harmonised panels."""

from laborseq.sources.harmonize import CANDIDATE_COLUMNS, SpecialCode, harmonize
from laborseq.sources.nlsy79 import read_nlsy79
from laborseq.sources.nlsy97 import read_nlsy97
from laborseq.sources.psid import read_psid
from laborseq.sources.resumes import read_resumes

__all__ = [
    "CANDIDATE_COLUMNS",
    "SpecialCode",
    "harmonize",
    "read_nlsy79",
    "read_nlsy97",
    "read_psid",
    "read_resumes",
]
