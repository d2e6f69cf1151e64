"""The command line end to end on small samples."""

from __future__ import annotations

import json
import re

import pytest
from cli_errors import error_line

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
            "--forecast-samples",
            "50",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["data"] == "nlswork"
    assert results["baseline"] == results["best"] != "marginal"
    assert not results["weighted"] and "unweighted" not in results
    diag = results["diagnostics"]
    assert set(diag["perplexity_by"]) == {"career position", "calendar year", "race", "education", "birth cohort"}
    assert {row["model"] for row in diag["stay_move"]} == {"marginal", "markov1", "markov2"}
    assert set(diag["calibration"]) == {"stay", "top"}
    assert len(diag["transition_rates"]["observed"]["rates"][0]) == 13
    # the forecast section: the latest origin followed by five waves of nlswork (1982-88)
    assert results["forecast"]["origin"] == 1980
    assert (out / "forecasts" / "markov1" / "paths.parquet").exists()
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
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    for section in ("Headline", "Data", "Split", "Where the models differ", "By career position", "By calendar year",
                    "Staying or moving", "Top-k accuracy", "Calibration", "Transitions between groups",
                    "Forecasts from 1980", "Wages with and without career representations", "Held-out log wages",
                    "Models", "Method", "Environment"):  # fmt: skip
        assert section in headings, section
    # every figure is saved as PNG and SVG, linked from the Markdown and inlined once in the HTML
    pngs = sorted(p.stem for p in (out / "figures").glob("*.png"))
    assert sorted(p.stem for p in (out / "figures").glob("*.svg")) == pngs
    assert sorted(re.findall(r"figures/(\w+)\.png", markdown)) == pngs
    assert html.count("<img ") == len(pngs) == html.count("<figure>")
    assert {"perplexity", "calibration", "transitions", "perplexity_by_career_position", "fan_markov1"} <= set(pngs)
    assert (out / "figures" / "perplexity.png").stat().st_size > 1000
    assert "markov1" in capsys.readouterr().out
    # the wage section (nlswork has wages; no CAREER among these models, so the one-hot histories)
    wages = results["wages"]
    assert {row["representation"] for row in wages["differences"]} == {"one-hot history", "previous occupation"}
    assert (out / "linearmodels" / "compare.txt").exists()
    assert "rationales" not in results


def test_compare_on_a_weighted_panel_reports_both(tmp_path):
    from conftest import make_panel

    path = make_panel(n_persons=300, weights=True).to_parquet(tmp_path / "weighted.parquet")
    out = tmp_path / "out"
    argv = ["compare", "--data", str(path), "--models", "markov1,marginal", "--n-boot", "20", "--forecast-origin"]
    assert main([*argv, "none", "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["weighted"] and "forecast" not in results
    unweighted = {row["model"]: row["perplexity"] for row in results["unweighted"]}
    assert unweighted["markov1"] != pytest.approx(results["models"]["markov1"]["perplexity"], rel=1e-6)
    assert "The same without survey weights" in (out / "report.md").read_text()
    assert main([*argv, "none", "--unweighted", "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    plain = json.loads((tmp_path / "plain" / "results.json").read_text())
    assert not plain["weighted"]
    assert plain["models"]["markov1"]["perplexity"] == pytest.approx(unweighted["markov1"], rel=1e-12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1800", r"--forecast-origin: .*leaves nothing to forecast"),
        ("soon", "not a period of an annual panel: give a year such as 1988"),
    ],
)
def test_compare_rejects_a_bad_forecast_origin(tmp_path, capsys, value, message):
    argv = ["compare", "--models", "markov1", "--forecast-origin", value, "--out", str(tmp_path), "--quiet"]
    assert re.search(message, error_line(capsys, argv))


def test_compare_reads_a_parquet_panel(tmp_path):
    path = load_wage_panel().to_parquet(tmp_path / "wage.parquet")
    out = tmp_path / "out"
    argv = ["compare", "--data", str(path), "--models", "markov1", "--n-boot", "20", "--forecast-origin", "none"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["data"] == "wage_panel"
    assert results["split"]["test"]["persons"] == 109


def test_compare_defaults_to_nlswork(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", "--models", "markov1", "--sample-persons", "100", "--n-boot", "10", "--forecast-samples", "20"]
    assert main([*argv, "--quiet"]) == 0
    assert json.loads((tmp_path / "compare-nlswork" / "results.json").read_text())["data"] == "nlswork"


def test_unknown_model_and_data_are_clear_errors(tmp_path, capsys):
    out = ["--out", str(tmp_path)]
    assert re.search("--models: unknown model 'lstm'", error_line(capsys, ["compare", "--models", "lstm", *out]))
    assert re.search(
        r"--data nosuchpanel: no such file, and not a bundled panel \(mvad, nlswork",
        error_line(capsys, ["compare", "--data", "nosuchpanel", *out]),
    )
    missing = str(tmp_path / "missing.parquet")
    assert re.search(
        r"--data .*missing.parquet: no such file", error_line(capsys, ["compare", "--data", missing, *out])
    )
    pretrained = ["compare", "--models", "career", "--career-pretrained", str(tmp_path), *out]
    assert re.search(r"--career-pretrained .*not a saved laborseq model", error_line(capsys, pretrained))
    pretrain = ["compare", "--models", "career", "--career-pretrain", str(tmp_path / "r.parquet"), *out]
    assert re.search(r"--career-pretrain .*no such file", error_line(capsys, pretrain))
    rationalize = ["rationalize", "--model", str(tmp_path), *out]
    assert re.search(r"--model .*not a saved laborseq model", error_line(capsys, rationalize))


def test_describe(capsys):
    assert main(["describe", "--data", "wage_panel"]) == 0
    assert "545" in capsys.readouterr().out


def test_compare_with_career_pretrained_on_a_resume_panel(tmp_path, capsys):
    from laborseq.synthetic import SyntheticCareers

    process = SyntheticCareers(seed=0, n_occupations=20)
    resumes = process.write_parquet(tmp_path / "resumes.parquet", 150, population="resume", rng=1)
    survey = process.sample(120, population="survey", rng=2).to_parquet(tmp_path / "survey.parquet")
    out = tmp_path / "out"
    argv = ["compare", "--data", str(survey), "--models", "markov1,career", "--career-max-steps", "3"]
    argv += ["--career-pretrain", str(resumes), "--n-boot", "20", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    career = results["models"]["career"]
    assert career["params"]["preset"] == "small" and career["params"]["members"] == 2  # the auto recipe
    assert (
        career["params"]["career_params"]["max_steps"] == career["params"]["career_params"]["finetune_max_steps"] == 3
    )
    assert career["params"]["pretrained"] == "<fitted CAREER>"
    assert career["choices"]["members"] == 2 and set(career["choices"]["mixture_weights"]) == {
        "career",
        "mnlogit_two_stage",
    }
    assert "pretraining CAREER" in capsys.readouterr().out
    # the rationale section, its word-dropout fine-tuning capped by --career-max-steps
    rationales = results["rationales"]
    assert rationales["mixture"] == 0.5 and len(rationales["rationales"]) == 100
    assert rationales["finetune"]["steps"] == 3
    assert "wages" not in results  # a parquet panel has no bundled wages
    assert "Rationales of CAREER's predictions" in (out / "report.md").read_text()
    assert re.search("not both", error_line(capsys, [*argv, "--career-pretrained", str(tmp_path)]))


def test_forecast_writes_the_report_and_the_paths(tmp_path, capsys):
    out = tmp_path / "forecast"
    argv = ["forecast", "--data", "nlswork", "--origin", "1978", "--horizon", "5", "--models", "markov1,markov2"]
    assert main([*argv, "--n-samples", "50", "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["origin"] == 1978 and results["years"] == [1980, 1982, 1983]  # nlswork's waves
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
    late = ["forecast", "--data", "nlswork", "--origin", "1990", "--out", str(tmp_path / "x"), "--quiet"]
    assert re.search("--origin: forecast origin 1990 leaves nothing to forecast", error_line(capsys, late))


def test_the_forecast_section_keeps_the_compared_models_it_names():
    from laborseq.pipeline import DEFAULT_FORECAST_MODELS, forecast_section_models

    wanted = DEFAULT_FORECAST_MODELS
    assert forecast_section_models(["marginal", "markov2", "markov1"], wanted) == ["markov2", "markov1"]
    assert forecast_section_models(["marginal"], wanted) == ["marginal"]  # none named: every compared model
    assert forecast_section_models(["marginal", "markov1"], None) == ["marginal", "markov1"]


def test_rationalize_writes_the_report_and_explains_what_is_asked(tmp_path, capsys):
    from laborseq.datasets import load

    panel = load("nlswork").sample_persons(300, rng=0)
    second = panel.data.groupby("person_id").nth(1).iloc[0]
    out = tmp_path / "rationales"
    argv = ["rationalize", "--data", "nlswork", "--sample-persons", "300", "--n", "12", "--career-max-steps", "20"]
    explain = f"{second.person_id}:{second.year}"
    assert main([*argv, "--explain", explain, "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["rationales"]) == 12 and results["mixture"] == 0.5
    assert results["explained"][0]["person"] == second.person_id and results["explained"][0]["year"] == second.year
    assert {"all"} <= {row["group"] for row in results["summary"]}
    markdown = (out / "report.md").read_text()
    assert "Example rationales" in markdown and "figures/rationale_sizes.png" in markdown
    assert f"Person {second.person_id}, {second.year}" in capsys.readouterr().out
    nonsense = [*argv, "--explain", "nonsense", "--out", str(tmp_path / "x"), "--quiet"]
    assert re.search("PERSON:YEAR", error_line(capsys, nonsense))
    first = panel.data.iloc[0]
    first_year = [*argv, "--explain", f"{first.person_id}:{first.year}", "--out", str(tmp_path / "y"), "--quiet"]
    assert re.search("first observed year", error_line(capsys, first_year))


def test_wages_writes_the_report_with_linearmodels_summaries(tmp_path, capsys):
    out = tmp_path / "wages"
    argv = ["wages", "--data", "wage_panel", "--career-max-steps", "5", "--n-boot", "50", "--components", "4"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    representations = {row["representation"] for row in results["differences"]}
    assert representations == {"CAREER", "one-hot history", "previous occupation"}
    assert results["n_boot"] == 50 and results["command"].startswith("laborseq wages")
    summaries = sorted(p.name for p in (out / "linearmodels").glob("*.txt"))
    assert "compare.txt" in summaries and len(summaries) == 7  # 2 specifications x 3 estimators + compare
    assert "PanelOLS" in (out / "linearmodels" / "compare.txt").read_text()
    assert "Held-out log wages" in (out / "report.md").read_text()
    assert "Mincer" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["wages", "--data", "nosuchpanel", "--out", str(tmp_path / "x")])
