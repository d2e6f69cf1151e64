"""A small document model rendered to Markdown and self-contained HTML, with LaTeX tables beside.

A :class:`Report` is a list of blocks (headings, paragraphs, tables, figures,
preformatted text). The same blocks render to a Markdown file, whose figures
are PNG files beside it, and to one HTML file with the figures inlined, so the
two never disagree. The tables a paper would cite are also kept as LaTeX floats
(:attr:`Report.latex`), written to ``tables/<name>.tex`` with a ``tables/tables.tex``
document that inputs them all and compiles on its own.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.figure
import numpy as np
import pandas as pd

from laborseq._util.io import write_text_atomic
from laborseq._util.latex import latex_document

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead th { border-bottom: 2px solid #333; }
tbody tr:nth-child(even) { background: #fafafa; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: .3rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; }
figcaption { font-size: .9rem; color: #444; }
pre { background: #f5f5f5; padding: .6rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; }
pre.nowrap { white-space: pre; overflow-x: auto; font-size: .75rem; }
code { background: #f2f2f2; padding: 0 .2rem; }
"""


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1 is the title)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Text with Markdown-style ``**bold**`` and ```code``` spans."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table; the index is shown as the first column."""

    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A matplotlib figure saved as ``figures/<name>.png`` (and ``.svg``)."""

    figure: matplotlib.figure.Figure
    name: str
    caption: str = ""


@dataclass(frozen=True)
class Preformatted:
    """Monospaced text (commands, environment listings).

    ``wrap=False`` keeps lines whole (text tables such as linearmodels'
    summaries) and scrolls them sideways in HTML instead of wrapping them.
    """

    text: str
    wrap: bool = True


Block = Heading | Paragraph | Table | Figure | Preformatted


@dataclass
class Report:
    """An ordered list of blocks with a title, and LaTeX tables by file name (without ``.tex``)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    latex: dict[str, str] = field(default_factory=dict)

    def add(self, *blocks: Block) -> Report:
        """Append blocks; returns ``self`` for chaining."""
        self.blocks.extend(blocks)
        return self

    # ------------------------------------------------------------------ Markdown
    def to_markdown(self) -> str:
        """Markdown text; figures are linked as ``figures/<name>.png``."""
        parts = [f"# {self.title}"]
        for block in self.blocks:
            if isinstance(block, Heading):
                parts.append(f"{'#' * max(block.level, 2)} {block.text}")
            elif isinstance(block, Paragraph):
                parts.append(block.text)
            elif isinstance(block, Table):
                table = block.frame.to_markdown()
                parts.append(f"**{block.caption}**\n\n{table}" if block.caption else table)
            elif isinstance(block, Figure):
                parts.append(f"![{block.caption or block.name}](figures/{block.name}.png)")
                if block.caption:
                    parts.append(f"*{block.caption}*")
            elif isinstance(block, Preformatted):
                parts.append(f"```\n{block.text}\n```")
        return "\n\n".join(parts) + "\n"

    # ------------------------------------------------------------------ HTML
    def to_html(self) -> str:
        """One self-contained HTML page (figures inlined as base64 PNG)."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            if isinstance(block, Heading):
                level = min(max(block.level, 2), 6)
                body.append(f"<h{level}>{_inline(block.text)}</h{level}>")
            elif isinstance(block, Paragraph):
                body.append(f"<p>{_inline(block.text)}</p>")
            elif isinstance(block, Table):
                body.append(_html_table(block.frame, block.caption))
            elif isinstance(block, Figure):
                data = base64.b64encode(_png_bytes(block.figure)).decode()
                alt = html.escape(block.caption or block.name)
                caption = f"<figcaption>{html.escape(block.caption)}</figcaption>" if block.caption else ""
                body.append(f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{caption}</figure>')
            elif isinstance(block, Preformatted):
                attributes = "" if block.wrap else ' class="nowrap"'
                body.append(f"<pre{attributes}>{html.escape(block.text)}</pre>")
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    # ------------------------------------------------------------------ files
    def write(self, out_dir: str | Path, stem: str = "report") -> dict[str, Path]:
        """Write ``<stem>.md``, ``<stem>.html`` and ``figures/*.png|svg`` under ``out_dir``."""
        out = Path(out_dir)
        figures = out / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        for block in self.blocks:
            if isinstance(block, Figure):
                block.figure.savefig(figures / f"{block.name}.png", dpi=150, bbox_inches="tight")
                block.figure.savefig(figures / f"{block.name}.svg", bbox_inches="tight")
        paths = {
            "markdown": write_text_atomic(out / f"{stem}.md", self.to_markdown()),
            "html": write_text_atomic(out / f"{stem}.html", self.to_html()),
            "figures": figures,
        }
        if self.latex:
            paths["latex"] = self.write_latex(out / "tables")
        return paths

    def write_latex(self, directory: str | Path) -> Path:
        """Write each LaTeX table to ``<name>.tex`` and ``tables.tex``, a document inputting them all.

        Returns
        -------
        pathlib.Path
            ``tables.tex`` (compile it in its folder: ``pdflatex tables.tex``).
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in self.latex.items():
            write_text_atomic(folder / f"{name}.tex", body)
        inputs = [f"\\input{{{name}}}" for name in self.latex]
        document = "% compile in this folder: pdflatex tables.tex\n" + latex_document(inputs, title=self.title)
        return write_text_atomic(folder / "tables.tex", document)


_NUMBER = re.compile(r"^[-+\u2212]?[\d.,]+(e[-+]?\d+)?%?( \[[^\]]*\])?$|^-$")
"""A cell that reads as a number (optionally with an interval): right-aligned."""


def _html_table(frame: pd.DataFrame, caption: str) -> str:
    """One ``<table>``: the index as the first column, text left-aligned and numbers right-aligned."""
    if frame.index.name or not isinstance(frame.index, pd.RangeIndex):
        flat = frame.reset_index(names=frame.index.name or "")
    else:
        flat = frame
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in flat.columns)
    rows = []
    for values in flat.itertuples(index=False):
        cells = []
        for value in values:
            text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
            numeric = isinstance(value, int | float | np.number) or bool(_NUMBER.match(text))
            cells.append(f'<td class="num">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{head}<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _inline(text: str) -> str:
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"(?<![*\w])\*(?![*\s])(.+?)(?<![*\s])\*(?![*\w])", r"<em>\1</em>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _png_bytes(fig: matplotlib.figure.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()
