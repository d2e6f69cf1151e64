"""LaTeX tables for papers, rendered by pandas' ``Styler.to_latex``: booktabs rules, intervals below estimates.

:func:`latex_table` turns a formatted table (cells already strings, such as
``"2.814 [2.677, 2.957]"``) into a ``table`` float: ``booktabs`` rules, the cells
escaped for LaTeX (with typographic minus signs and the few Unicode symbols the
tables use), an estimate's bracketed interval or parenthesised standard error on a
line of its own below it (as esttab prints them), a caption, a label and notes.
:func:`latex_document` wraps tables in a document that compiles on its own with the
packages of a basic TeX installation (``booktabs``, ``graphicx``, ``geometry``, ``lmodern``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["latex_document", "latex_escape", "latex_table"]

_SPECIAL = {
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
    "²": r"\textsuperscript{2}",
    "Δ": r"$\Delta$",
    "−": r"$-$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "·": r"$\cdot$",
}
_NEGATIVE = re.compile(r"(?<![\w.])-(?=\d|\.\d)")
_BELOW = re.compile(r"^(?P<estimate>\S.*?) (?P<below>[\[(][^\[\]()]*[\])])$")
"""A cell of an estimate followed by its interval ``[low, high]`` or standard error ``(se)``."""


def latex_escape(text: object) -> str:
    """``text`` safe for LaTeX text mode: special characters escaped, minus signs of numbers typeset as minus.

    Parameters
    ----------
    text : object
        Anything; ``None`` and NaN become empty.

    Returns
    -------
    str
        The escaped text.

    Examples
    --------
    >>> latex_escape("-0.033 [-0.058, -0.007] & 5%")
    '$-$0.033 [$-$0.058, $-$0.007] \\\\& 5\\\\%'
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    escaped = "".join(_SPECIAL.get(ch, ch) for ch in str(text))
    return _NEGATIVE.sub("$-$", escaped)


HEADING_WIDTH = 16
"""Column headings longer than this many characters are broken into lines at spaces."""

_SHRINK = "\\resizebox{{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}}{{!}}{{%\n{tabular}}}"
"""A tabular wider than the text is scaled down to the text width (``graphicx``); a narrower one is left as it is."""


def _heading(text: str, *, left: bool = False) -> str:
    """A column heading, escaped; a long one stacked on several lines (a nested tabular, no package needed)."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= HEADING_WIDTH:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) <= 1:
        return latex_escape(text)
    align = "l" if left else "c"
    return f"\\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}" + " \\\\ ".join(map(latex_escape, lines)) + "\\end{tabular}"


_NUMERIC_CELL = re.compile(r"^[-+−]?[\d.,]+(e[-+]?\d+)?[%*]*$|^[\[(].*[\])]$|^-?$")
"""A cell that reads as a number, an interval or standard error below one, or a dash: right-aligned."""


def _cell(value: object) -> str:
    """A cell, escaped; one that starts with ``[`` or ``*`` is guarded by ``{}`` (after ``\\\\`` they would be
    read as the line break's optional arguments)."""
    text = latex_escape(value)
    return "{}" + text if text.startswith(("[", "*")) else text


def _alignment(column: pd.Series) -> str:
    """``r`` for a column of numbers (intervals and blanks allowed), ``l`` for text."""
    cells = [str(v).strip() for v in column if v is not None and not (isinstance(v, float) and v != v)]
    return "r" if cells and all(_NUMERIC_CELL.match(c) for c in cells) else "l"


def _split_below(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row whose cells read ``estimate [interval]`` or ``estimate (se)`` becomes two rows, the second below."""
    rows, labels = [], []
    for label, values in zip(frame.index, frame.to_numpy(dtype=object), strict=True):
        matches = [_BELOW.match(str(v)) if isinstance(v, str) else None for v in values]
        if not any(matches):
            rows.append(list(values))
            labels.append(label)
            continue
        rows.append([m["estimate"] if m else v for m, v in zip(matches, values, strict=True)])
        rows.append([m["below"] if m else "" for m in matches])
        labels += [label, ""]
    return pd.DataFrame(rows, index=pd.Index(labels, name=frame.index.name), columns=frame.columns)


def latex_table(
    frame: pd.DataFrame,
    *,
    caption: str,
    label: str | None = None,
    notes: Sequence[str] = (),
    below: bool = True,
    font_size: str = "small",
    headings: bool = True,
    column_format: str | None = None,
) -> str:
    """A ``table`` float with a ``booktabs`` tabular of ``frame``, rendered by pandas' ``Styler.to_latex``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, cells formatted as strings; the index is the first column (its
        name the stub heading).
    caption : str
        Caption (escaped).
    label : str, optional
        ``\\label`` of the table, for ``\\ref``.
    notes : sequence of str
        Lines set below the table in a smaller font (escaped).
    below : bool
        Put an estimate's bracketed interval or parenthesised standard error on its own line below it.
    font_size : str
        Size command of the tabular (``small``, ``footnotesize``, ``normalsize``).
    headings : bool
        Show the column headings (``False`` for a block of label-value pairs).
    column_format : str, optional
        The tabular's column specification; by default columns of numbers right-aligned, text left-aligned.

    Returns
    -------
    str
        The LaTeX of the float; it needs ``\\usepackage{booktabs}`` and ``\\usepackage{graphicx}`` (a
        tabular wider than the text is scaled down to its width).
    """
    with_stub = bool(frame.index.name) or not isinstance(frame.index, pd.RangeIndex)
    table = _split_below(frame) if below else frame
    names = ([table.index.name or ""] if with_stub else []) + [str(c) for c in table.columns]
    cells = table.to_numpy(dtype=object)
    if with_stub:
        cells = np.column_stack([np.asarray(table.index, dtype=object), cells])
    flat = pd.DataFrame(cells, columns=range(len(names)))  # positions: headings may repeat or be empty
    styler = flat.style.hide(axis="index").format(_cell)
    styler = styler.format_index(lambda i: _heading(names[i], left=with_stub and i == 0), axis=1)
    if not headings:
        styler = styler.hide(axis="columns")
    body = styler.to_latex(
        hrules=True,
        column_format=column_format or "".join(_alignment(flat[c]) for c in flat.columns),
        caption=latex_escape(caption),
        label=label,
        position="htbp",
        position_float="centering",
    )
    if not headings:
        body = body.replace("\\toprule\n\\midrule\n", "\\toprule\n", 1)
    start, end = body.index("\\begin{tabular}"), body.rindex("\\end{tabular}") + len("\\end{tabular}")
    body = body[:start] + _SHRINK.format(tabular=body[start:end]) + body[end:]
    if font_size != "normalsize":
        body = body.replace("\\begin{tabular}", f"\\{font_size}\n\\begin{{tabular}}", 1)
    if notes:
        lines = "\\par\n".join(latex_escape(n) for n in notes)
        block = f"\\par\\smallskip\n\\begin{{minipage}}{{0.95\\linewidth}}\\footnotesize\n{lines}\n\\end{{minipage}}\n"
        body = body.replace("\\end{table}", block + "\\end{table}")
    return body


def latex_document(tables: Sequence[str], *, title: str = "") -> str:
    """A LaTeX document holding ``tables``, which compiles on its own (pdflatex, lualatex or xelatex).

    Parameters
    ----------
    tables : sequence of str
        Table floats (:func:`latex_table`) or any LaTeX body.
    title : str
        A heading above them (escaped; none when empty).

    Returns
    -------
    str
        The document.
    """
    head = [
        "\\documentclass[11pt]{article}",
        "\\usepackage[T1]{fontenc}",
        "\\usepackage{lmodern}",
        "\\usepackage[margin=2cm]{geometry}",
        "\\usepackage{booktabs}",
        "\\usepackage{graphicx}",
        "\\begin{document}",
    ]
    if title:
        head.append(f"\\section*{{{latex_escape(title)}}}")
    return "\n".join([*head, *(t.rstrip() + "\n\\clearpage" for t in tables), "\\end{document}"]) + "\n"
