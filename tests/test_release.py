"""Release files: one version everywhere, a valid citation file, the license the package declares."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from laborseq import __version__
from laborseq.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_written_once_and_shown_everywhere(capsys):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"] and "version" not in project
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## (\S+)", changelog, re.M).group(1) == __version__
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)", citation, re.M).group(1) == __version__
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"laborseq {__version__}"


def test_citation_file_is_valid_and_cites_the_implemented_works():
    cffconvert = Path(sys.executable).parent / "cffconvert"
    if not cffconvert.exists():
        pytest.skip("cffconvert is installed with laborseq[dev]")
    run = subprocess.run(
        [str(cffconvert), "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    citation = (ROOT / "CITATION.cff").read_text()
    for work in ("CAREER: A Foundation Model", "Polarization of the US Labor Market", "Social Skills"):
        assert work in citation


def test_license_matches_the_declared_one():
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
