"""The wage report: its sections, numbers formatted from the study, text derived from them, and files."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_panel

from laborseq.report.document import Figure, Heading, Paragraph, Preformatted, Table
from laborseq.report.wages import wage_blocks, write_wage_report
from laborseq.studies.representations import one_hot_history, previous_occupation
from laborseq.studies.wage_tables import heldout_table, subgroup_table
from laborseq.studies.wages import CHANGED, MINCER, wage_study


@pytest.fixture(scope="module")
def study():
    panel = make_panel(n_persons=300, seed=3)
    train, test = panel.split_persons((0.7, 0.3), rng=0)
    history = one_hot_history(panel)
    gen = np.random.default_rng(0)
    data = panel.data
    experience = data.groupby("person_id").cumcount().to_numpy() + 1.0
    index = pd.MultiIndex.from_arrays([data["person_id"].to_numpy(), data["year"].to_numpy()])
    wages = pd.DataFrame(
        {
            "ln_wage": 1.5 + 0.05 * experience + gen.normal(0, 0.3, len(data)),
            "experience": experience,
            "schooling": np.where(data["education"].to_numpy() == "bachelors", 16.0, 12.0),
        },
        index=index,
    )
    representations = {"one-hot history": history, "previous occupation": previous_occupation(history)}
    return wage_study(train, test, wages, representations, n_boot=100)


def _paragraphs(blocks) -> list[str]:
    return [b.text for b in blocks if isinstance(b, Paragraph)]


def test_blocks_have_the_sections_figure_and_comparison(study):
    blocks = wage_blocks(study, level=3)
    headings = [(b.text, b.level) for b in blocks if isinstance(b, Heading)]
    assert headings == [
        ("Wages with and without career representations", 3),
        ("Held-out log wages", 4),
        ("With minus without career representations", 4),
        ("Where the differences come from", 4),
        ("In-sample estimates (linearmodels)", 4),
    ]
    (figure,) = [b for b in blocks if isinstance(b, Figure)]
    assert figure.name == "wage_rmse_differences" and len(figure.figure.axes) == 2
    assert [b.text for b in blocks if isinstance(b, Preformatted)] == [study.compare_summary()]
    assert len([b for b in blocks if isinstance(b, Table)]) == 4


def test_tables_show_the_study_numbers_with_intervals(study):
    table = heldout_table(study)
    assert list(table.index) == [MINCER, "Mincer + one-hot history", "Mincer + previous occupation"]
    row = study.table.loc[(MINCER, "random")]
    assert table.loc[MINCER, "random effects: RMSE"] == (
        f"{row['rmse']:.4f} [{row['rmse_low']:.4f}, {row['rmse_high']:.4f}]"
    )
    sub = subgroup_table(study)
    assert len(sub) == len(study.subgroups)
    changers = study.subgroups.loc[("previous occupation", CHANGED)]
    shown = sub[(sub.index == "previous occupation") & (sub["subgroup"] == CHANGED)].iloc[0]
    assert shown["share"] == f"{changers['share']:.1%}"
    assert shown["ΔRMSE"].startswith(f"{changers['rmse_diff']:.4f} [")


def test_reading_is_derived_from_the_numbers(study):
    reading = _paragraphs(wage_blocks(study))[-2]
    share = study.subgroups.loc[("one-hot history", CHANGED), "share"]
    assert f"{share:.1%} change occupation" in reading
    # move every pooled interval below zero, then straddling zero: the conclusion follows the numbers
    below = study.differences.copy()
    below["rmse_diff_low"], below["rmse_diff_high"] = -0.02, -0.01
    reading = _paragraphs(wage_blocks(dataclasses.replace(study, differences=below)))[-2]
    assert "pooled OLS interval lies below zero: one-hot history, previous occupation." in reading
    assert "lower; the interval excludes zero" in reading
    straddle = study.differences.copy()
    straddle["rmse_diff_low"], straddle["rmse_diff_high"] = -0.01, 0.01
    reading = _paragraphs(wage_blocks(dataclasses.replace(study, differences=straddle)))[-2]
    assert "none detectably improves the held-out RMSE" in reading


def test_write_wage_report_writes_every_file(study, tmp_path):
    paths = write_wage_report(study, tmp_path / "out", title="Wages on toy careers", command="laborseq wages")
    out = tmp_path / "out"
    assert paths["markdown"].read_text().startswith("# Wages on toy careers")
    html = paths["html"].read_text()
    assert "data:image/png;base64," in html and "Model Comparison" in html
    assert html.count('<pre class="nowrap">') == 1  # the wide linearmodels table scrolls instead of wrapping
    assert {p.name for p in (out / "figures").iterdir()} == {"wage_rmse_differences.png", "wage_rmse_differences.svg"}
    results = json.loads(paths["results"].read_text())
    assert results["command"] == "laborseq wages"
    assert results["heldout"] == study.to_dict()["heldout"]
    names = {p.name for p in paths["linearmodels"].iterdir()}
    expected = {
        f"{spec}_{kind}.txt" for spec in ("mincer", "mincer_one_hot_history") for kind in ("pooled", "random", "fixed")
    }
    assert names == expected | {"compare.txt"}
    assert "PanelOLS Estimation Summary" in (paths["linearmodels"] / "mincer_one_hot_history_fixed.txt").read_text()
    assert (paths["linearmodels"] / "compare.txt").read_text() == study.compare_summary()
