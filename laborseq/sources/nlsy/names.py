"""Reference numbers and question names of NLS Investigator variables.

Investigator names a variable by a *reference number* (``R0046400``; the
codebook writes ``R00464.00``) and by a *question name* with a survey-year
suffix (``CPSOCC70_1979``), which users spell in several styles: Stata
``CPSOCC80_01_2000``, SAS/R ``CPSOCC80.01_2000``, NLSY97 ``KEY!SEX_1997``
(``KEY_SEX_1997`` in Stata), often lower-cased. The functions here bring every
spelling to one form (``docs/survey-formats.md``, section C.1.2).
"""

from __future__ import annotations

import re

_REFNUM = re.compile(r"^[A-Z][0-9]{7}$")
_CDB_REFNUM = re.compile(r"^([A-Z][0-9]{5})\.([0-9]{2})$")
_YEAR_SUFFIX = re.compile(r"^(.+?)_((?:19|20)[0-9]{2}|XRND|78SCRN|HSTR)$")


def normalize_refnum(text: str) -> str | None:
    """A reference number in the CSV form (``R0046400``), or ``None`` if ``text`` is not one.

    Accepts the codebook form with a dot before the last two digits (``R00464.00``)
    and lower case.
    """
    text = text.strip().upper()
    if _REFNUM.match(text):
        return text
    m = _CDB_REFNUM.match(text)
    return m.group(1) + m.group(2) if m else None


def normalize_qname(name: str) -> str:
    """A question name in one spelling for all header styles.

    Upper case, every run of characters other than letters and digits becomes
    ``_``: ``OCCALL-EMP.01``, ``OCCALL_EMP_01`` and ``occall_emp_01`` all give
    ``OCCALL_EMP_01``; ``KEY!SEX`` gives ``KEY_SEX``.
    """
    return re.sub(r"[^A-Z0-9]+", "_", name.strip().upper()).strip("_")


def split_question_name(name: str) -> tuple[str, str | None]:
    """``(question name, survey-year label)`` of a renamed header ``<QNAME>_<year>``.

    The label is a four-digit year or ``XRND``/``78SCRN``/``HSTR``; ``None``
    when the name has no such suffix (``CASEID``).
    """
    norm = normalize_qname(name)
    m = _YEAR_SUFFIX.match(norm)
    return (m.group(1), m.group(2)) if m else (norm, None)


def year_of(label: str | None) -> int | None:
    """The survey year of a year label (``None`` for cross-round labels such as ``XRND``)."""
    return int(label) if label is not None and label.isdigit() and len(label) == 4 else None
