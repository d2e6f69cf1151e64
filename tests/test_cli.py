"""The command line end to end on small samples."""

from __future__ import annotations

import json
import re

import pytest

from laborseq.cli import main
from laborseq.datasets import load_wage_panel


def test_compare_writes_the_report(tmp_path, capsys):
    out = tmp_path / "report"
    code = main(
        [
            "compare",
            "--data",
            "nlswork",
            "--models",
            "marginal,markov1,markov2",
            "--seed",
            "0",
            "--sample-persons",
            "400",
            "--n-boot",
            "50",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["data"] == "nlswork"
    assert results["split"]["seed"] == 0
    assert results["split"]["test"]["persons"] == 80
    assert set(results["models"]) == {"marginal", "markov1", "markov2"}
    for entry in results["models"].values():
        assert set(entry) >= {"perplexity", "perplexity_ci", "perplexity_transitions", "n_targets", "fit_seconds"}
        lo, hi = entry["perplexity_ci"]
        assert lo <= entry["perplexity"] <= hi
    assert results["models"]["markov1"]["perplexity"] < results["models"]["marginal"]["perplexity"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 1
    assert not re.search(r'src="(?!data:)', html), "the HTML must not load external resources"
    markdown = (out / "report.md").read_text()
    assert "| markov1" in markdown and "figures/perplexity.png" in markdown
    assert (out / "figures" / "perplexity.png").stat().st_size > 1000
    assert "markov1" in capsys.readouterr().out


def test_compare_reads_a_parquet_panel(tmp_path):
    path = load_wage_panel().to_parquet(tmp_path / "wage.parquet")
    out = tmp_path / "out"
    assert (
        main(["compare", "--data", str(path), "--models", "markov1", "--n-boot", "20", "--out", str(out), "--quiet"])
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["data"] == "wage_panel"
    assert results["split"]["test"]["persons"] == 109


def test_compare_defaults_to_nlswork(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "--models", "markov1", "--sample-persons", "100", "--n-boot", "10", "--quiet"]) == 0
    assert json.loads((tmp_path / "compare-nlswork" / "results.json").read_text())["data"] == "nlswork"


def test_unknown_model_and_data_are_clear_errors(tmp_path):
    with pytest.raises(SystemExit, match="unknown model 'lstm'"):
        main(["compare", "--models", "lstm", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="neither a bundled panel"):
        main(["compare", "--data", "nosuchpanel", "--out", str(tmp_path)])


def test_describe(capsys):
    assert main(["describe", "--data", "wage_panel"]) == 0
    assert "545" in capsys.readouterr().out


def test_compare_with_career_pretrained_on_a_resume_panel(tmp_path, capsys):
    from laborseq.sources import SyntheticCareers

    process = SyntheticCareers(seed=0, n_occupations=20)
    resumes = process.write_parquet(tmp_path / "resumes.parquet", 150, population="resume", rng=1)
    survey = process.sample(120, population="survey", rng=2).to_parquet(tmp_path / "survey.parquet")
    out = tmp_path / "out"
    argv = ["compare", "--data", str(survey), "--models", "markov1,career", "--career-max-steps", "3"]
    argv += ["--career-pretrain", str(resumes), "--n-boot", "20", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    career = results["models"]["career"]
    assert career["params"]["d_model"] == 64  # the small preset
    assert career["params"]["max_steps"] == career["params"]["finetune_max_steps"] == 3
    assert "pretraining CAREER" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not both"):
        main([*argv, "--career-pretrained", str(tmp_path)])


def test_forecast_writes_the_report_and_the_paths(tmp_path, capsys):
    out = tmp_path / "forecast"
    argv = ["forecast", "--data", "nlswork", "--cutoff", "1978", "--horizon", "5", "--models", "markov1,markov2"]
    assert main([*argv, "--n-samples", "50", "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["cutoff"] == 1978 and results["years"] == [1980, 1982, 1983]  # nlswork's waves
    for name in ("markov1", "markov2"):
        entry = results["models"][name]
        assert [row["year"] for row in entry["by_horizon"]] == [1980, 1982, 1983]
        assert 1.0 < entry["overall"]["perplexity"] < 13.0
        assert entry["overall"]["moves_auc"] > 0.5
    from laborseq.forecast import ForecastResult

    saved = ForecastResult.load(out / "forecasts" / "markov1")
    assert saved.paths.shape[1:] == (50, 3)
    html = (out / "report.html").read_text()
    assert "Forecast perplexity by year" in html and html.count("data:image/png;base64,") >= 3
    assert "all years" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no forecast years"):
        main(["forecast", "--data", "nlswork", "--cutoff", "1990", "--out", str(tmp_path / "x"), "--quiet"])
