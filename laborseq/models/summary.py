"""Summaries of model results: tables rendered as text, HTML and LaTeX.

:class:`Summary` is what ``MNLogitResults.summary()`` returns: a header block of fit
statistics, titled coefficient tables and notes, printed as fixed-width text and shown
as HTML in notebooks (``as_latex()`` gives ``booktabs`` tables). The renderer knows
nothing of the results it shows: :mod:`laborseq.models.results` fills it, and
:mod:`laborseq.models.comparison` renders several results side by side with it.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from laborseq._util.latex import latex_table

SUMMARY_OUTCOMES = 5
"""Outcomes shown by :meth:`MNLogitResults.summary` when there are more (the most frequent)."""

_COV_NAMES = {
    "cluster": "cluster (person)",
    "robust": "robust (HC0)",
    "nonrobust": "nonrobust",
    "bootstrap": "person bootstrap",
}


# ======================================================================= cells and labels
def format_number(value: Any, digits: int = 4) -> str:
    """A number for a table: fixed decimals, scientific when very large or small; blank when missing.

    Parameters
    ----------
    value : float or None
        The number.
    digits : int
        Decimals (significant digits minus one in scientific notation).

    Returns
    -------
    str
        ``""`` for ``None`` and NaN, ``"inf"``/``"-inf"`` for infinities.
    """
    if value is None:
        return ""
    v = float(value)
    if not np.isfinite(v):
        return "" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 10 ** (-digits)):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}f}"


def format_pvalue(value: float | None) -> str:
    """A p-value with three decimals (``0.000`` below 0.0005), as statsmodels prints it.

    Parameters
    ----------
    value : float or None
        The p-value.

    Returns
    -------
    str
        Blank when missing or not finite.
    """
    return "" if value is None or not np.isfinite(value) else f"{float(value):.3f}"


def cov_name(cov_type: str) -> str:
    """The name of a covariance type in summaries (``"cluster"`` is ``"cluster (person)"``).

    Parameters
    ----------
    cov_type : str
        ``"cluster"``, ``"robust"``, ``"nonrobust"`` or ``"bootstrap"``.

    Returns
    -------
    str
        The display name; an unknown type as given.
    """
    return _COV_NAMES.get(cov_type, cov_type)


def outcome_label(outcome: str, title: str) -> str:
    """Title of an outcome's coefficient table: ``outcome = code (title)``.

    Parameters
    ----------
    outcome : str
        State code of the outcome.
    title : str
        Its title; left out when it is the code itself.

    Returns
    -------
    str
        The label.
    """
    return f"outcome = {outcome}" + (f" ({title})" if title != outcome else "")


def outcome_codes(outcomes: str | Sequence[str]) -> list[str]:
    """One outcome code or several, as a list of strings.

    Parameters
    ----------
    outcomes : str or sequence of str
        State codes.

    Returns
    -------
    list of str
        The codes, in the order given.
    """
    return [outcomes] if isinstance(outcomes, str) else [str(o) for o in outcomes]


def stars(pvalue: float, on: bool) -> str:
    """Significance stars of a p-value: ``*`` below 0.10, ``**`` below 0.05, ``***`` below 0.01.

    Parameters
    ----------
    pvalue : float
        The p-value (no stars when not finite).
    on : bool
        Whether stars are shown at all.

    Returns
    -------
    str
        The stars, possibly none.
    """
    if not on or not np.isfinite(pvalue):
        return ""
    return "***" if pvalue < 0.01 else "**" if pvalue < 0.05 else "*" if pvalue < 0.1 else ""


def estimate_rows(
    params: pd.DataFrame, errors: pd.DataFrame | None, with_stars: bool, pvalues: pd.DataFrame | None = None
) -> list[tuple[str, list[str]]]:
    """Rows of an estimates table: each term's estimates (with stars), its standard errors in parentheses below.

    Parameters
    ----------
    params : pandas.DataFrame
        Estimates, terms x columns.
    errors : pandas.DataFrame, optional
        What goes in parentheses (standard errors, or z statistics, p-values), laid out like ``params``.
    with_stars : bool
        Mark estimates by :func:`stars`.
    pvalues : pandas.DataFrame, optional
        The p-values of the stars; by default two-sided normal p-values of ``params / errors``.

    Returns
    -------
    list of (str, list of str)
        Two rows per term (the second with an empty label; no second row without ``errors``).
    """
    if pvalues is None and errors is not None:
        z = (params / errors).to_numpy(dtype=float)
        pvalues = pd.DataFrame(special.erfc(np.abs(z) / math.sqrt(2)), index=params.index, columns=params.columns)
    rows = []
    for term in params.index:
        estimates = params.loc[term]
        marks = [stars(pvalues.loc[term, c], with_stars) if pvalues is not None else "" for c in params.columns]
        rows.append((str(term), [format_number(estimates[c]) + m for c, m in zip(params.columns, marks, strict=True)]))
        if errors is not None:
            below = errors.loc[term]
            rows.append(("", [f"({format_number(below[c])})" if np.isfinite(below[c]) else "" for c in params.columns]))
    return rows


# ======================================================================= rendering
class Rendered:
    """Display shared by summaries: ``str`` and ``repr`` give the text, notebooks show the HTML."""

    def as_text(self) -> str:
        """Fixed-width text."""
        raise NotImplementedError

    def as_html(self) -> str:
        """An HTML fragment."""
        raise NotImplementedError

    def as_latex(self) -> str:
        """LaTeX table floats (``booktabs``)."""
        raise NotImplementedError

    def to_latex(self) -> str:
        """:meth:`as_latex`, named as pandas names it."""
        return self.as_latex()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


@dataclass(frozen=True)
class SummaryTable:
    """A titled table of formatted cells with a stub (row label) column.

    Attributes
    ----------
    title : str
        Title above the table (none when empty).
    columns : list of str
        Column headings, the stub column excluded.
    rows : list of (str, list of str)
        Row label and cells of each row.
    """

    title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


class Summary(Rendered):
    """A rendered summary: header block, tables and notes, as text, HTML or LaTeX.

    ``str(summary)`` is the text; notebooks show the HTML.

    Parameters
    ----------
    title : str
        Title of the summary.
    header : list of list of str
        Rows of four cells (label, value, label, value); may be empty.
    tables : list of SummaryTable
        The tables, in order.
    notes : list of str
        Lines below the tables.
    """

    def __init__(self, title: str, header: list[list[str]], tables: list[SummaryTable], notes: list[str]) -> None:
        self.title = title
        self.header = [list(r) for r in header]
        self.tables = list(tables)
        self.notes = list(notes)

    def as_text(self) -> str:
        """Fixed-width text."""
        blocks = []
        widths = [max((len(r[c]) for r in self.header), default=0) for c in range(4)] if self.header else []
        header_lines = [
            f"{r[0]:<{widths[0]}} {r[1]:>{widths[1]}}    {r[2]:<{widths[2]}} {r[3]:>{widths[3]}}" for r in self.header
        ]
        table_lines = [_text_table(t) for t in self.tables]
        lengths = [len(line) for line in header_lines] + [len(line) for lines in table_lines for line in lines]
        width = max([*lengths, len(self.title)])
        blocks.append(self.title.center(width).rstrip())
        blocks.append("=" * width)
        blocks += header_lines
        for lines in table_lines:
            if blocks[-1] != "=" * width:
                blocks.append("=" * width)
            blocks += lines
        blocks.append("=" * width)
        blocks += [line for note in self.notes for line in textwrap.wrap(note, max(width, 80)) or [""]]
        return "\n".join(blocks)

    def as_html(self) -> str:
        """An HTML fragment (escaped) with one ``<table>`` per block."""
        e = html.escape
        parts = ['<div class="laborseq-summary">', '<table class="simpletable">', f"<caption>{e(self.title)}</caption>"]
        for r in self.header:
            parts.append(f"<tr><th>{e(r[0])}</th><td>{e(r[1])}</td><th>{e(r[2])}</th><td>{e(r[3])}</td></tr>")
        parts.append("</table>")
        for t in self.tables:
            parts.append('<table class="simpletable">')
            parts.append(f"<caption>{e(t.title)}</caption>")
            parts.append("<tr><td></td>" + "".join(f"<th>{e(c)}</th>" for c in t.columns) + "</tr>")
            for stub, cells in t.rows:
                parts.append(f"<tr><th>{e(stub)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
            parts.append("</table>")
        parts += [f"<p>{e(n)}</p>" for n in self.notes]
        parts.append("</div>")
        return "\n".join(parts)

    def as_latex(self) -> str:
        """LaTeX: a ``booktabs`` table float per block (:func:`~laborseq._util.latex.latex_table`).

        The notes go below the last table.
        """
        parts = []
        if self.header:
            header = pd.DataFrame([r[1:] for r in self.header], index=pd.Index([r[0] for r in self.header], name=""))
            parts.append(latex_table(header, caption=self.title, below=False, headings=False, column_format="lrlr"))
        frames: list[tuple[str, pd.DataFrame]] = []
        for t in self.tables:
            frame = pd.DataFrame([cells for _, cells in t.rows], columns=t.columns)
            frame.index = pd.Index([stub for stub, _ in t.rows], name="")
            frames.append((f"{self.title}: {t.title}" if t.title else self.title, frame))
        last = len(frames) - 1
        parts += [
            latex_table(frame, caption=caption, notes=self.notes if i == last else (), below=False)
            for i, (caption, frame) in enumerate(frames)
        ]
        return "\n".join(parts)


def _text_table(table: SummaryTable) -> list[str]:
    """The fixed-width lines of one table: title, rule, column headings, rule, rows.

    Parameters
    ----------
    table : SummaryTable
        The table.

    Returns
    -------
    list of str
        Its lines (no title or first rule when the title is empty).
    """
    stub_w = max([len(s) for s, _ in table.rows] + [0])
    widths = [max([len(c)] + [len(cells[i]) for _, cells in table.rows]) for i, c in enumerate(table.columns)]
    head = " " * stub_w + "".join(f"  {c:>{w}}" for c, w in zip(table.columns, widths, strict=True))
    rule = "-" * len(head)
    lines = [head, rule]
    lines += [
        f"{s:<{stub_w}}" + "".join(f"  {c:>{w}}" for c, w in zip(cells, widths, strict=True)) for s, cells in table.rows
    ]
    title = table.title if len(table.title) >= len(head) else table.title.center(len(head)).rstrip()
    return [title, rule, *lines] if table.title else lines
