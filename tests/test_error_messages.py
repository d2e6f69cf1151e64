"""Error messages are for users who have only the installed package: none cites a file of the repository."""

from __future__ import annotations

import ast
from pathlib import Path

import laborseq

PACKAGE = Path(laborseq.__file__).parent


def raised_texts(tree: ast.AST) -> list[tuple[int, str]]:
    """The string pieces of every ``raise`` statement's expression, with their line numbers."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for part in ast.walk(node.exc):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    out.append((part.lineno, part.value))
    return out


def test_no_error_message_cites_a_repository_file():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, text in raised_texts(ast.parse(path.read_text())):
            if ".md" in text or "docs/" in text or "PROVENANCE" in text:
                offenders.append(f"{path.relative_to(PACKAGE)}:{line}: {text!r}")
    assert not offenders, offenders


def test_the_scan_finds_a_citation():
    tree = ast.parse('def f():\n    raise ValueError(f"{x}: see docs/survey-formats.md, section C.2")\n')
    assert any("survey-formats.md" in text for _, text in raised_texts(tree))
