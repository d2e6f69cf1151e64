"""``laborseq harmonize`` end to end, and ``laborseq compare`` on its output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_errors import error_line

from laborseq import CareerPanel
from laborseq.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("source", "path", "options"),
    [
        ("nlsy79", FIXTURES / "nlsy79" / "extended.csv", []),
        ("nlsy79", FIXTURES / "nlsy79" / "investigator.csv", []),
        ("nlsy97", FIXTURES / "nlsy97" / "nlsy97.csv", []),
        ("psid", FIXTURES / "psid" / "J100002.txt", ["--layout", str(FIXTURES / "psid" / "J100002.do")]),
        ("resumes", FIXTURES / "resumes" / "spells.parquet", ["--frame", "occ2010"]),
    ],
)
def test_harmonize_writes_panel_and_lineage(source, path, options, tmp_path, capsys):
    out, lineage_path = tmp_path / "panel.parquet", tmp_path / "lineage.json"
    code = main(["harmonize", source, str(path), "--out", str(out), "--lineage", str(lineage_path), *options])
    assert code == 0
    panel = CareerPanel.read_parquet(out)
    assert panel.scheme.name == "occ1990dd" and panel.scheme.variant == "dorn2013"
    lineage = json.loads(lineage_path.read_text())
    assert lineage["rows_read"] == lineage["rows_kept"] + lineage["rows_dropped"]
    assert lineage["rows_kept"] == len(panel) > 0
    assert panel.lineage.to_dict() == lineage
    printed = capsys.readouterr().out
    assert "rows read" in printed and "rows kept" in printed


def test_harmonize_variant_and_errors(tmp_path, capsys):
    out = tmp_path / "p.parquet"
    assert (
        main(
            [
                "harmonize",
                "nlsy79",
                str(FIXTURES / "nlsy79" / "extended.csv"),
                "--out",
                str(out),
                "--variant",
                "deming2017",
            ]
        )
        == 0
    )
    assert CareerPanel.read_parquet(out).scheme.variant == "deming2017"
    argv = ["harmonize", "nlsy79", str(FIXTURES / "nlsy79" / "extended.csv"), "--out", str(out), "--layout", "x.do"]
    assert re.search("--layout does not apply to nlsy79", error_line(capsys, argv))


def test_compare_runs_on_a_harmonized_panel(tmp_path):
    panel_path = tmp_path / "psid.parquet"
    main(["harmonize", "psid", str(FIXTURES / "psid" / "J100002.txt"), "--out", str(panel_path)])
    panel = CareerPanel.read_parquet(panel_path)
    assert panel.n_persons >= 3
    out = tmp_path / "report"
    assert (
        main(
            [
                "compare",
                "--data",
                str(panel_path),
                "--models",
                "marginal,markov1",
                "--n-boot",
                "20",
                "--fractions",
                "0.34,0.33,0.33",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["lineage"]["rows_read"] == panel.lineage.rows_read
    markdown = (out / "report.md").read_text()
    assert "Lineage:" in markdown
    # a panel this small says why a section is empty instead of failing
    assert "too few to compare transition rates" in markdown
