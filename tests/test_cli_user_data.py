"""A user's own file at the command line: compare, keep the models and predictions, score new persons, and the
one-line error of every sub-command."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_errors import error_line

from laborseq._version import __version__
from laborseq.cli import CommandError, main
from laborseq.models.base import load_model
from laborseq.sources.tables import TableFormatError, read_table

FIXTURES = Path(__file__).parent / "fixtures"
COLUMNS = ["--person", "pid", "--year", "wave", "--occ", "occ10", "--from-scheme", "occ2010", "--covariates", "sex"]


def careers(n_persons: int, seed: int, first: int = 0) -> pd.DataFrame:
    """Careers with the user's own column names and raw 2010 Census codes (a few codes, sticky)."""
    rng = np.random.default_rng(seed)
    codes = [10, 2200, 3255, 4720, 5700, 4760]
    rows = []
    for p in range(first, first + n_persons):
        code, sex = rng.choice(codes), rng.choice(["f", "m"])
        for year in range(2000, 2000 + int(rng.integers(3, 8))):
            if rng.random() < 0.25:
                code = rng.choice(codes)
            rows.append((f"P{p:04d}", year, int(code), sex))
    return pd.DataFrame(rows, columns=["pid", "wave", "occ10", "sex"])


def test_compare_keeps_models_and_predictions_and_predict_scores_new_persons(tmp_path, capsys):
    train, new = tmp_path / "careers.csv", tmp_path / "new.csv"
    careers(300, 0).to_csv(train, index=False)
    careers(60, 1, first=1000).to_csv(new, index=False)
    out, models = tmp_path / "report", tmp_path / "models"
    argv = ["compare", "--data", str(train), *COLUMNS, "--models", "markov1,markov2", "--n-boot", "20"]
    argv += ["--forecast-origin", "none", "--rationales", "0", "--out", str(out), "--quiet"]
    assert main([*argv, "--save-models", str(models), "--save-predictions"]) == 0
    assert "saved 2 fitted models" in capsys.readouterr().out
    table = pd.read_parquet(out / "predictions.parquet")
    assert set(table["model"]) == {"markov1", "markov2"}
    assert list(table.columns[:5]) == ["person_id", "year", "model", "observed", "log_likelihood"]
    # the report's perplexity is the predictions' mean log-likelihood
    results = pd.read_json(out / "results.json", typ="series")
    for name, rows in table.groupby("model", observed=True):
        perplexity = np.exp(-rows["log_likelihood"].mean())
        assert perplexity == pytest.approx(results["models"][name]["perplexity"], rel=1e-9)
    assert results["lineage"]["rows_read"] == len(careers(300, 0)) == results["lineage"]["rows_kept"]
    assert "Lineage: " in (out / "report.md").read_text()  # the harmonisation is reported

    # a saved model scores new persons, as the library does
    pred_path = tmp_path / "new_predictions.parquet"
    code = main(["predict", "--model", str(models / "markov2"), "--data", str(new), *COLUMNS, "--out", str(pred_path)])
    assert code == 0
    predicted = pd.read_parquet(pred_path).set_index(["person_id", "year"])
    model = load_model(models / "markov2")
    panel = read_table(new, person="pid", year="wave", occ="occ10", from_scheme="occ2010", covariates=["sex"])
    proba = model.predict_proba(panel, as_frame=True)
    assert len(predicted) == len(proba) == panel.n_targets
    for k in range(1, 6):
        states = predicted[f"top{k}_state"]
        looked_up = [proba.at[index, state] for index, state in states.items()]
        np.testing.assert_allclose(predicted[f"top{k}_proba"], looked_up, rtol=0, atol=0)
    observed = [proba.at[index, state] for index, state in predicted["observed"].items()]
    np.testing.assert_allclose(predicted["log_likelihood"], np.log(observed), rtol=1e-12)
    top1 = proba.to_numpy().argmax(axis=1)
    assert (predicted["top1_proba"].to_numpy() == proba.to_numpy()[np.arange(len(top1)), top1]).all()


def test_predict_proba_as_frame_is_labelled(toy_split):
    from laborseq.models.registry import make_model

    train, _, test = toy_split
    model = make_model("markov1").fit(train)
    frame = model.predict_proba(test, as_frame=True)
    assert frame.index.names == ["person_id", "year"] and list(frame.columns) == list(model.classes_)
    np.testing.assert_array_equal(frame.to_numpy(), model.predict_proba(test))
    targets = test.targets()
    assert frame.index.equals(pd.MultiIndex.from_frame(targets[["person_id", "year"]]))


def test_version_comes_from_one_place(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"laborseq {__version__}"


def test_describe_reads_every_format_and_lists_the_top_states(tmp_path, capsys):
    frame = careers(50, 2)
    frame.to_stata(tmp_path / "c.dta", write_index=False)
    assert main(["describe", "--data", str(tmp_path / "c.dta"), *COLUMNS, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "state shares (the 3 most common)" in out and re.search(r"\.\.\. and \d+ more states", out)
    assert "Lineage of" in out


def test_describe_plots_writes_the_sequence_figures(tmp_path, capsys):
    careers(60, 3).to_csv(tmp_path / "c.csv", index=False)
    out = tmp_path / "plots"
    assert main(["describe", "--data", str(tmp_path / "c.csv"), *COLUMNS, "--plots", str(out), "--by", "position"]) == 0
    assert f"wrote {out / 'sequences.md'}" in capsys.readouterr().out
    for name in ("chronogram", "index_plot", "entropy"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 0
    text = (out / "sequences.md").read_text()
    assert "by observation" in text and "Transition rates between consecutive observations" in text


def test_traceback_option_shows_the_trace(tmp_path):
    missing = tmp_path / "c.csv"
    missing.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="no column") as info:
        main(["describe", "--data", str(missing), "--traceback"])
    assert isinstance(info.value.__cause__, TableFormatError)  # the trace reaches the reader


ERRORS = [
    (
        "compare-columns",
        ["compare", "--data", "{csv}", "--out", "{tmp}/o"],
        r"--data .*c.csv: no column\(s\) \['person_id'",
    ),
    ("compare-scheme", ["compare", "--data", "{csv}", *COLUMNS[:6], "--from-scheme", "occ1950"], None),
    ("forecast-origin", ["forecast", "--data", "{csv}", *COLUMNS, "--origin", "1900"], r"origin"),
    (
        "rationalize-explain",
        ["rationalize", "--data", "{csv}", *COLUMNS, "--explain", "x"],
        r"--explain wants PERSON:YEAR",
    ),
    ("wages-data", ["wages", "--data", "nosuchpanel"], None),
    ("harmonize-nlsy", ["harmonize", "nlsy79", "{keys}", "--out", "{tmp}/p.parquet"], r"no NLSY79 occupation variable"),
    ("harmonize-missing", ["harmonize", "psid", "{tmp}/none.txt", "--out", "{tmp}/p.parquet"], r"none.txt"),
    ("describe-csv", ["describe", "--data", "{csv}"], r"no column\(s\) \['person_id', 'year', 'occ'\]"),
    ("describe-dta", ["describe", "--data", "{tmp}/broken.dta"], r"broken.dta: cannot be read as a stata file"),
    (
        "describe-age",
        ["describe", "--data", "{csv}", *COLUMNS, "--plots", "{tmp}/plots", "--by", "age"],
        r"--by age: .*needs a 'birth_year' covariate",
    ),
    ("predict-model", ["predict", "--model", "{tmp}", "--data", "{csv}", "--out", "{tmp}/p.parquet"], r"--model"),
    ("predict-states", ["predict", "--model", "{model}", "--data", "{other}", "--out", "{tmp}/p.parquet"], "not in"),
]
"""Sub-command, arguments and the expected one-line message (None: argparse's own usage error, exit status 2)."""


@pytest.mark.parametrize(("name", "argv", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_every_sub_command_fails_with_one_line(name, argv, message, tmp_path, capsys):
    csv = tmp_path / "c.csv"
    careers(30, 3).to_csv(csv, index=False)
    other = tmp_path / "other.csv"
    pd.DataFrame({"person_id": [1, 1], "year": [2000, 2001], "occ": ["astronaut", "astronaut"]}).to_csv(other)
    (tmp_path / "broken.dta").write_text("not stata")
    keys = tmp_path / "keys.csv"
    keys.write_text("R0000100,R0214800\n1,2\n")
    model = tmp_path / "model"
    if "{model}" in argv:
        main(
            [
                "compare",
                "--data",
                str(csv),
                *COLUMNS,
                "--models",
                "markov1",
                "--n-boot",
                "5",
                "--forecast-origin",
                "none",
                "--rationales",
                "0",
                "--out",
                str(tmp_path / "r"),
                "--save-models",
                str(tmp_path / "m"),
                "--quiet",
            ]
        )
        shutil.copytree(tmp_path / "m" / "markov1", model)
    values = {"{csv}": csv, "{tmp}": tmp_path, "{keys}": keys, "{model}": model, "{other}": other}
    filled = [_fill(a, values) for a in argv]
    if message is None:
        with pytest.raises(SystemExit) as info:
            main(filled)
        assert info.value.code == 2
        assert "error:" in capsys.readouterr().err
        return
    line = error_line(capsys, filled)
    assert re.search(message, line), line


def _fill(text: str, values: dict[str, Path]) -> str:
    for key, value in values.items():
        text = text.replace(key, str(value))
    return text


def test_harmonize_names_unmapped_codes_and_takes_your_crosswalk(tmp_path, capsys):
    export = FIXTURES / "nlsy97" / "nlsy97.csv"
    out = tmp_path / "p.parquet"
    line = error_line(capsys, ["harmonize", "nlsy97", str(export), "--out", str(out), "--on-unmapped", "raise"])
    assert re.search(r"not codes of the occ2000_4digit frame, in 1 row\(s\): 9999 \(1x\).*--crosswalk", line)
    table = tmp_path / "mine.csv"
    table.write_text("frame,from_code,occ1990dd\nocc2000_4digit,9999,out_of_labor_force\n")
    argv = ["harmonize", "nlsy97", str(export), "--out", str(out), "--on-unmapped", "raise", "--crosswalk", str(table)]
    assert main(argv) == 0
    assert f"your crosswalk ({table}) (occ2000_4digit)" in capsys.readouterr().out
    line = error_line(capsys, [*argv[:-2], "--crosswalk", str(tmp_path / "none.csv")])
    assert "none.csv: no such file" in line


def test_column_options_are_refused_for_named_panels_not_ignored(tmp_path, capsys):
    line = error_line(capsys, ["describe", "--data", "wage_panel", "--person", "id"])
    assert "--person name the columns of your own file, but --data wage_panel is a bundled panel" in line
    line = error_line(capsys, ["forecast", "--origin", "1980", "--covariates", "observed"])
    assert "--future-covariates observed" in line
    assert "--top must be at least 1" in error_line(capsys, ["describe", "--data", "wage_panel", "--top", "0"])


def test_read_table_counts_negative_codes_as_survey_missing_values(tmp_path):
    path = tmp_path / "c.csv"
    careers(5, 4).assign(occ10=lambda f: f["occ10"].where(f.index != 0, -4)).to_csv(path, index=False)
    panel = read_table(path, person="pid", year="wave", occ="occ10", from_scheme="occ2010")
    assert panel.lineage.dropped_by_reason() == {"-4 negative code (a survey missing-value code)": 1}
