"""Summaries of model results: tables rendered as text, HTML and LaTeX, and side-by-side comparisons.

:class:`Summary` is what ``MNLogitResults.summary()`` returns: a header block of fit
statistics, titled coefficient tables and notes, printed as fixed-width text and shown
as HTML in notebooks (``as_latex()`` gives ``booktabs`` tables). :func:`compare` puts
several :class:`~laborseq.models.results.MNLogitResults` side by side in a
:class:`ResultsComparison`, which renders the same way.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from laborseq.models.covariance import CovarianceUnavailableError

if TYPE_CHECKING:
    from laborseq.models.results import MNLogitResults

SUMMARY_OUTCOMES = 5
"""Outcomes shown by :meth:`MNLogitResults.summary` when there are more (the most frequent)."""

_COV_NAMES = {
    "cluster": "cluster (person)",
    "robust": "robust (HC0)",
    "nonrobust": "nonrobust",
    "bootstrap": "person bootstrap",
}
_PRECISION = {"std_errors": "Std. errors", "zstats": "z statistics", "pvalues": "P-values"}
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
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


def _latex_escape(text: str) -> str:
    """``text`` with the characters special to LaTeX escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _stars(pvalue: float, on: bool) -> str:
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


# ======================================================================= rendering
class _Rendered:
    """Display shared by summaries: ``str`` and ``repr`` give the text, notebooks show the HTML."""

    def as_text(self) -> str:
        """Fixed-width text."""
        raise NotImplementedError

    def as_html(self) -> str:
        """An HTML fragment."""
        raise NotImplementedError

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


class Summary(_Rendered):
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
        blocks += self.notes
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
        """LaTeX (``booktabs``): one ``tabular`` per block, notes as text."""
        x = _latex_escape
        parts = ["\\begin{center}", f"\\textbf{{{x(self.title)}}}\\\\[0.5em]"]
        if self.header:
            parts += ["\\begin{tabular}{lrlr}", "\\toprule"]
            parts += [" & ".join(x(c) for c in r) + " \\\\" for r in self.header]
            parts += ["\\bottomrule", "\\end{tabular}"]
        for t in self.tables:
            parts += [
                "",
                f"\\textit{{{x(t.title)}}}\\\\",
                "\\begin{tabular}{l" + "r" * len(t.columns) + "}",
                "\\toprule",
                " & " + " & ".join(x(c) for c in t.columns) + " \\\\",
                "\\midrule",
            ]
            parts += [x(stub) + " & " + " & ".join(x(c) for c in cells) + " \\\\" for stub, cells in t.rows]
            parts += ["\\bottomrule", "\\end{tabular}"]
        parts.append("\\end{center}")
        parts += [x(n) + "\\\\" for n in self.notes]
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


# ======================================================================= compare
class ResultsComparison(_Rendered):
    """Several :class:`~laborseq.models.results.MNLogitResults` side by side (see :func:`compare`).

    Parameters
    ----------
    results : dict of str to MNLogitResults
        The results, by model name (the column headings).
    outcomes : sequence of str
        Outcome state codes to show, one block each.
    precision : {"std_errors", "zstats", "pvalues"}
        What to show in parentheses under each estimate.
    stars : bool
        Whether to mark significant estimates with stars.
    """

    def __init__(
        self,
        results: Mapping[str, MNLogitResults],
        *,
        outcomes: Sequence[str],
        precision: str,
        stars: bool,
    ) -> None:
        self._results = dict(results)
        self._outcomes = list(outcomes)
        self._precision = precision
        self._stars = stars

    def _stacked(self, name: str) -> pd.DataFrame:
        """A property of every results object, rows ``(outcome, term)``, one column per model (NaN if missing)."""
        columns = {}
        for key, res in self._results.items():
            try:
                frame = getattr(res, name)
            except CovarianceUnavailableError:
                frame = res.params * np.nan
            keep = [o for o in self._outcomes if o in frame.columns]
            columns[key] = frame[keep].unstack().rename_axis(["outcome", "term"])
        out = pd.concat(columns, axis=1, sort=False)
        order = {o: i for i, o in enumerate(self._outcomes)}
        return out.sort_index(level="outcome", key=lambda s: s.map(order), sort_remaining=False, kind="stable")

    @property
    def params(self) -> pd.DataFrame:
        """Estimates, rows ``(outcome, term)``, one column per model."""
        return self._stacked("params")

    @property
    def std_errors(self) -> pd.DataFrame:
        """Standard errors (NaN where a model has none), laid out like :attr:`params`."""
        return self._stacked("std_errors")

    @property
    def pvalues(self) -> pd.DataFrame:
        """P-values, laid out like :attr:`params`."""
        return self._stacked("pvalues")

    @property
    def zstats(self) -> pd.DataFrame:
        """z statistics, laid out like :attr:`params`."""
        return self._stacked("zstats")

    def summary(self) -> Summary:
        """Header rows (fit statistics) and one coefficient block per outcome.

        Returns
        -------
        Summary
            Titled ``Model Comparison``; the precision and the stars are explained in the notes.
        """
        models = list(self._results)
        stat_rows: list[tuple[str, Callable[[MNLogitResults], str]]] = [
            ("Engine", lambda r: r.engine),
            ("Cov. type", lambda r: cov_name(r.cov_type)),
            ("alpha", lambda r: format_number(r.alpha)),
            ("Persons", lambda r: f"{r.n_persons:,}"),
            ("Transitions", lambda r: f"{r.nobs:,}"),
            ("Parameters", lambda r: f"{r.n_params:,}"),
            ("Log-likelihood", lambda r: format_number(r.loglik, 2)),
            ("Pseudo R-squ.", lambda r: format_number(r.pseudo_rsquared)),
            ("Perplexity", lambda r: format_number(r.perplexity)),
        ]
        rows = [(label, [f(r) for r in self._results.values()]) for label, f in stat_rows]
        tables = [SummaryTable("", models, rows)]
        params, precision, pvalues = self.params, self._stacked(self._precision), self.pvalues
        titles: dict[str, str] = {}
        for res in self._results.values():
            titles.update(res.outcome_titles.to_dict())
        for outcome in self._outcomes:
            if outcome not in params.index.get_level_values("outcome"):
                continue
            rows = []
            for term in params.loc[outcome].index:
                est, prec, pv = (
                    params.loc[(outcome, term)],
                    precision.loc[(outcome, term)],
                    pvalues.loc[(outcome, term)],
                )
                rows.append((str(term), [format_number(est[m]) + _stars(pv[m], self._stars) for m in models]))
                rows.append(("", [f"({format_number(prec[m])})" if np.isfinite(prec[m]) else "" for m in models]))
            tables.append(SummaryTable(outcome_label(outcome, titles.get(outcome, outcome)), models, rows))
        notes = [f"{_PRECISION[self._precision]} in parentheses."]
        if self._stars:
            notes.append("* p<0.10, ** p<0.05, *** p<0.01")
        return Summary("Model Comparison", [], tables, notes)

    def as_text(self) -> str:
        """Fixed-width text."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """HTML fragment."""
        return self.summary().as_html()

    def as_latex(self) -> str:
        """LaTeX tables."""
        return self.summary().as_latex()


def compare(
    results: Mapping[str, MNLogitResults] | Sequence[MNLogitResults],
    *,
    outcomes: str | Sequence[str] | None = None,
    precision: Literal["std_errors", "zstats", "pvalues"] = "std_errors",
    stars: bool = True,
) -> ResultsComparison:
    """Put the estimates of several multinomial logits side by side.

    Parameters
    ----------
    results : dict of str to MNLogitResults, or sequence
        The results; a sequence is named ``Model 0``, ``Model 1``, ...
    outcomes : str or sequence of str, optional
        Outcome state codes to show, one block (terms x models) each. By default the
        :data:`SUMMARY_OUTCOMES` most frequent outcomes of the first results.
    precision : {"std_errors", "zstats", "pvalues"}
        What to show in parentheses under each estimate.
    stars : bool
        Mark estimates with p < 0.10, 0.05, 0.01 by one, two or three stars.

    Returns
    -------
    ResultsComparison
        Renders as text (``str``), HTML and LaTeX; ``params``, ``std_errors`` and
        ``pvalues`` are ``(outcome, term)`` x model frames.

    Raises
    ------
    TypeError
        When some entry is not an :class:`~laborseq.models.results.MNLogitResults`.
    ValueError
        When there are no results, ``precision`` is unknown or no model has an outcome asked for.
    """
    from laborseq.models.results import MNLogitResults  # results imports this module

    named = dict(results) if isinstance(results, Mapping) else {f"Model {i}": r for i, r in enumerate(results)}
    if not named:
        raise ValueError("compare needs at least one results object")
    bad = [k for k, v in named.items() if not isinstance(v, MNLogitResults)]
    if bad:
        raise TypeError(f"compare takes MNLogitResults; {bad} are not")
    if precision not in _PRECISION:
        raise ValueError(f"precision must be one of {list(_PRECISION)}, got {precision!r}")
    first = next(iter(named.values()))
    if outcomes is None:
        chosen = first._selected_outcomes(None, SUMMARY_OUTCOMES)
    else:
        chosen = outcome_codes(outcomes)
        known = set().union(*(set(r.params.columns) for r in named.values()))
        unknown = [o for o in chosen if o not in known]
        if unknown:
            raise ValueError(f"no model has parameters for outcome(s) {unknown}")
    return ResultsComparison(named, outcomes=chosen, precision=precision, stars=stars)
