"""A user's own CSV, end to end at the command line: compare with saved models and predictions, then score
held-out persons with ``laborseq predict``, and check that the predictions equal the library's ``predict_proba``.

The CSV is written the way a user's file looks: its own column names (``caseid``, ``survey_year``,
``occ2010``, ``sex``, ``educ``) and raw Census 2010 codes. The careers are drawn from
``SyntheticCareers(seed=0)`` (survey design) and every occ1990dd state is written as the smallest 2010
code Dorn's crosswalk maps to it, so the file goes through ``--from-scheme occ2010`` as real codes would.
Persons 1..N-300 go to ``careers.csv``, the last 300 to ``new_persons.csv``.

Run: ``.venv/bin/python analyses/own_file_walkthrough.py [--persons 2000] [--models markov2,mnlogit,career]``
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from laborseq.models.base import load_model
from laborseq.occupations.crosswalk_files import file_mapping
from laborseq.sources.tables import read_table
from laborseq.synthetic.process import SyntheticCareers

LABORSEQ = str(Path(sys.executable).with_name("laborseq"))
COLUMNS = ["--person", "caseid", "--year", "survey_year", "--occ", "occ2010", "--from-scheme", "occ2010"]
COLUMNS += ["--covariates", "sex,educ"]


def write_user_files(directory: Path, n_persons: int, n_new: int = 300) -> tuple[Path, Path]:
    """The user's CSVs: own column names, raw 2010 codes."""
    panel = SyntheticCareers(seed=0).sample(n_persons, population="survey", rng=1)
    first_code: dict[str, int] = {}
    for code, target in sorted(file_mapping("occ2010", "dorn2013").items()):
        first_code.setdefault(str(target), code)
    data = panel.data
    frame = pd.DataFrame(
        {
            "caseid": data["person_id"].to_numpy(),
            "survey_year": data["year"].to_numpy(),
            "occ2010": data["occ"].astype(str).map(first_code).astype("Int64"),  # blank where no 2010 code reaches
            "sex": data["gender"].astype(str).to_numpy(),
            "educ": data["education"].astype(str).to_numpy(),
        }
    )
    new = frame["caseid"] > n_persons - n_new
    train_path, new_path = directory / "careers.csv", directory / "new_persons.csv"
    frame[~new].to_csv(train_path, index=False)
    frame[new].to_csv(new_path, index=False)
    return train_path, new_path


def run(argv: list[str]) -> float:
    """Run a laborseq command, print it and its wall time."""
    print(f"$ laborseq {shlex.join(argv)}", flush=True)
    start = time.perf_counter()
    subprocess.run([LABORSEQ, *argv], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    print(f"  {seconds:.1f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--models", default="markov2,mnlogit,career")
    parser.add_argument("--out", default=None, help="working directory (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="laborseq-own-file-"))
    work.mkdir(parents=True, exist_ok=True)
    train, new = write_user_files(work, args.persons)
    print(f"wrote {train} ({sum(1 for _ in open(train)) - 1:,} rows) and {new}")
    run(["describe", "--data", str(train), *COLUMNS, "--top", "5"])
    models = work / "models"
    run(
        [
            "compare",
            "--data",
            str(train),
            *COLUMNS,
            "--models",
            args.models,
            "--forecast-origin",
            "none",
            "--rationales",
            "0",
            "--out",
            str(work / "report"),
            "--quiet",
            "--save-models",
            str(models),
            "--save-predictions",
        ]
    )
    panel = read_table(
        new, person="caseid", year="survey_year", occ="occ2010", from_scheme="occ2010", covariates=["sex", "educ"]
    )
    for name in args.models.split(","):
        out = work / f"predictions-{name}.parquet"
        run(["predict", "--model", str(models / name), "--data", str(new), *COLUMNS, "--out", str(out)])
        predicted = pd.read_parquet(out).set_index(["person_id", "year"])
        proba = load_model(models / name).predict_proba(panel, as_frame=True)
        top = np.array([[proba.at[i, s] for i, s in predicted[f"top{k}_state"].items()] for k in range(1, 6)]).T
        stored = predicted[[f"top{k}_proba" for k in range(1, 6)]].to_numpy()
        observed = np.log([proba.at[i, s] for i, s in predicted["observed"].items()])
        print(
            f"  {name}: {len(predicted):,} person-years of {panel.n_persons} new persons; "
            f"max |top-5 probability - predict_proba| = {np.abs(top - stored).max():.3g}, "
            f"max |log-likelihood - log predict_proba| = {np.abs(observed - predicted['log_likelihood']).max():.3g}, "
            f"perplexity {np.exp(-predicted['log_likelihood'].mean()):.3f}"
        )


if __name__ == "__main__":
    main()
