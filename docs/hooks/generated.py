"""MkDocs hook: pages and files generated at build time, so that they never go stale.

- ``cli.md``: the command-line reference, from laborseq's own argument parser;
- ``changelog.md``: the repository's ``CHANGELOG.md``;
- ``reports/<panel>/figures/*.png``: the committed reports' figures, which the pages show.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_reference() -> str:
    """Markdown of ``laborseq --help`` and of every sub-command's ``--help``."""
    from laborseq.cli.parser import build_parser  # noqa: PLC0415 - imported when the site is built

    os.environ["COLUMNS"] = "100"  # argparse wraps help at the terminal's width: fix it
    parser = build_parser()
    parts = [
        "# Command-line reference",
        "",
        "Generated from the argument parser of the installed laborseq when this site was built. "
        "Every command prints the same with `--help`; an error prints one line and exits non-zero "
        "(`--traceback` shows the Python trace).",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
    ]
    for name, sub in _subcommands(parser).items():
        parts += ["", f"## `laborseq {name}`", "", "```text", sub.format_help().rstrip(), "```"]
    return "\n".join(parts) + "\n"


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages and the reports' figures to the site."""
    files.append(File.generated(config, "cli.md", content=cli_reference()))
    files.append(File.generated(config, "changelog.md", content=(ROOT / "CHANGELOG.md").read_text()))
    for figure in sorted(ROOT.glob("reports/*/figures/*.png")):
        uri = figure.relative_to(ROOT).as_posix()
        files.append(File.generated(config, uri, abs_src_path=str(figure)))
    return files
