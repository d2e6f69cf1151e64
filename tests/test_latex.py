"""LaTeX tables: escaping, intervals below estimates, notes, the report's tables/ folder, and (slow) compiling them."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from laborseq._util.latex import latex_document, latex_escape, latex_table
from laborseq.datasets import load_wage_panel
from laborseq.pipeline import run_comparison, write_report


def test_escape_special_characters_minus_signs_and_symbols():
    assert latex_escape("a_b & 5% #1 {x} $") == r"a\_b \& 5\% \#1 \{x\} \$"
    assert latex_escape("-0.033 [-0.058, +0.007]") == "$-$0.033 [$-$0.058, +0.007]"
    assert latex_escape("ΔR² p<0.1") == r"$\Delta$R\textsuperscript{2} p\textless{}0.1"
    assert latex_escape("occ1990-dd") == "occ1990-dd"  # a hyphen inside a word is not a minus
    assert latex_escape(None) == "" and latex_escape(float("nan")) == ""


def test_table_puts_intervals_below_and_keeps_plain_rows():
    frame = pd.DataFrame(
        {"perplexity (all person-years)": ["2.814 [2.677, 2.957]", "3.000"], "se": ["0.1 (0.02)", ""]},
        index=pd.Index(["career_x", "mnlogit"], name="model"),
    )
    text = latex_table(frame, caption="Test 95%", label="tab:t", notes=["1,000 draws", "* excludes zero"])
    lines = text.splitlines()
    row = lines.index(r"career\_x & 2.814 & 0.1 \\")
    assert lines[row + 1] == r" & {}[2.677, 2.957] & (0.02) \\"
    assert r"mnlogit & 3.000 &  \\" in lines  # no interval: one row
    assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text
    assert "\\caption{Test 95\\%}" in text and "\\label{tab:t}" in text
    assert "1,000 draws\\par\n* excludes zero" in text
    assert "\\begin{tabular}[b]{@{}c@{}}perplexity (all \\\\ person-years)\\end{tabular}" in text  # long heading
    assert text.count("\\begin{tabular}{") == 1 and text.rstrip().endswith("\\end{table}")
    bare = latex_table(pd.DataFrame({"a": ["[1, 2]", "x y"]}), caption="c")
    assert "\\begin{tabular}{l}" in bare and "{}[1, 2] \\\\" in bare  # no stub; a bracket guarded after \\\\
    flat = latex_table(frame, caption="c", below=False, headings=False, column_format="lrr")
    assert "[2.677, 2.957]" in flat and "person-years" not in flat and "\\midrule" not in flat


def test_document_inputs_tables():
    doc = latex_document(["\\input{perplexity}"], title="Model comparison on x_y")
    assert doc.startswith("\\documentclass") and "\\usepackage{booktabs}" in doc and "\\usepackage{graphicx}" in doc
    assert "\\section*{Model comparison on x\\_y}" in doc and doc.rstrip().endswith("\\end{document}")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    panel = load_wage_panel()
    study = run_comparison(
        panel, ["markov1", "mnlogit", "mnlogit_two_stage"], n_boot=50, forecast_samples=50, rng=0, sequences=False
    )
    out = tmp_path_factory.mktemp("report")
    paths = write_report(study, out)
    return out, paths, study


def test_report_writes_every_paper_table(report_dir):
    out, paths, study = report_dir
    tables = out / "tables"
    assert paths["latex"] == tables / "tables.tex"
    names = {p.stem for p in tables.glob("*.tex")}
    assert {"perplexity", "forecast", "mnlogit_effects", "perplexity_by_career_position", "tables"} <= names
    headline = (tables / "perplexity.tex").read_text()
    assert "Held-out perplexity by model" in headline and "(50 draws)" in headline
    assert f"{study.comparison.n_test_persons:,} held-out persons" in headline
    for name in names - {"tables"}:
        assert f"\\input{{{name}}}" in (tables / "tables.tex").read_text()
    report = (out / "report.md").read_text()
    assert "average marginal effects of the multinomial logit" in report and "(0.0" in report
    assert study.to_dict()["marginal_effects"]["standard_errors"] == "delta (cluster)"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (Debian: texlive-latex-recommended)")
def test_report_tables_compile_with_pdflatex(report_dir):
    out, _, _ = report_dir
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
        cwd=out / "tables",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert (out / "tables" / "tables.pdf").stat().st_size > 10_000
    assert "Overfull \\hbox" not in run.stdout
