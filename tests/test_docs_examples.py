"""The code examples of the documentation run: every ```python block of docs/*.md, page by page.

The blocks of a page run in order in one namespace, in a temporary folder (examples write
files), on the bundled panels or small synthetic data. A block preceded by an HTML comment
``<!-- not tested: reason -->`` is left out (it reads the user's own files, or takes minutes).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"(?P<skip><!-- not tested: [^>]*-->\n)?```python\n(?P<code>.*?)```", re.S)


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if any(m["skip"] is None for m in BLOCK.finditer(p.read_text())))


def test_every_page_with_python_is_collected():
    assert {p.name for p in _pages()} >= {"getting-started.md", "paper-tables.md", "forecasting.md"}


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_examples_of_page_run(page: Path, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for number, match in enumerate(BLOCK.finditer(page.read_text()), start=1):
        if match["skip"] is not None:
            continue
        code = compile(match["code"], f"{page.name} (python block {number})", "exec")
        exec(code, namespace)
