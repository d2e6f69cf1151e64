"""Readers that turn survey exports and resume spells into harmonised panels."""

from laborseq.sources.harmonize import CANDIDATE_COLUMNS, SpecialCode, harmonize
from laborseq.sources.nlsy79 import read_nlsy79
from laborseq.sources.nlsy97 import read_nlsy97
from laborseq.sources.psid import read_psid
from laborseq.sources.resumes import read_resumes
from laborseq.sources.synthetic import RESUME, SURVEY, Population, SyntheticCareers

__all__ = [
    "CANDIDATE_COLUMNS",
    "RESUME",
    "SURVEY",
    "Population",
    "SpecialCode",
    "SyntheticCareers",
    "harmonize",
    "read_nlsy79",
    "read_nlsy97",
    "read_psid",
    "read_resumes",
]
