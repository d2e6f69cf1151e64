"""Readers that turn survey exports and resume spells into harmonised panels.

The survey layouts the readers rely on are described in ``docs/survey-formats.md``.
"""

from laborseq.sources.harmonize import CANDIDATE_COLUMNS, SpecialCode, harmonize
from laborseq.sources.nlsy.investigator import NLSYFormatError
from laborseq.sources.nlsy.nlsy79 import read_nlsy79
from laborseq.sources.nlsy.nlsy97 import read_nlsy97
from laborseq.sources.psid.layout import PSIDFormatError
from laborseq.sources.psid.reader import read_psid
from laborseq.sources.resumes.reader import read_resumes, write_resumes
from laborseq.sources.resumes.spells import ResumeFormatError
from laborseq.sources.tables import TableFormatError, read_table

__all__ = [
    "CANDIDATE_COLUMNS",
    "NLSYFormatError",
    "PSIDFormatError",
    "ResumeFormatError",
    "SpecialCode",
    "TableFormatError",
    "harmonize",
    "read_nlsy79",
    "read_nlsy97",
    "read_psid",
    "read_resumes",
    "read_table",
    "write_resumes",
]
