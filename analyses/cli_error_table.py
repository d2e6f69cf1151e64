"""What a user sees when a ``laborseq`` command is given bad input: the one line printed and the exit status.

Runs every sub-command on a bad input in a subprocess (as a user would, through the
``laborseq`` console script) and prints a Markdown table: command, input, the line on
standard error, exit status. Inputs are written to a temporary directory.

Run: ``.venv/bin/python analyses/cli_error_table.py``
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LABORSEQ = str(Path(sys.executable).with_name("laborseq"))
COLUMNS = ["--person", "pid", "--year", "wave", "--occ", "occ10", "--from-scheme", "occ2010"]


def inputs(tmp: Path) -> dict[str, Path]:
    """The bad (and the good) inputs the commands are run on."""
    rng = np.random.default_rng(0)
    rows = [(f"P{p}", 2000 + t, int(rng.choice([10, 2200, 4720]))) for p in range(40) for t in range(4)]
    good = pd.DataFrame(rows, columns=["pid", "wave", "occ10"])
    paths = {"csv": tmp / "careers.csv", "twice": tmp / "twice.csv", "dta": tmp / "broken.dta"}
    good.to_csv(paths["csv"], index=False)
    pd.concat([good, good.iloc[[0]]]).to_csv(paths["twice"], index=False)
    paths["dta"].write_text("not a Stata file")
    paths["keys"] = tmp / "keys.csv"
    paths["keys"].write_text("R0000100,R0214800\n1,2\n")
    paths["bare"] = tmp / "bare.csv"
    header = ["PUBID", "YEMP_OCCODE-2002.01", "YEMP_OCCODE-2002.01"]
    paths["bare"].write_text(",".join(header) + "\n1,4720,5700\n")
    paths["nlsy97"] = ROOT / "tests" / "fixtures" / "nlsy97" / "nlsy97.csv"
    paths["models"] = tmp / "models"
    subprocess.run(
        [
            *(LABORSEQ, "compare", "--data", str(paths["csv"]), *COLUMNS, "--models", "markov1", "--n-boot", "5"),
            *("--forecast-origin", "none", "--rationales", "0", "--out", str(tmp / "r"), "--quiet"),
            *("--save-models", str(paths["models"])),
        ],
        check=True,
        capture_output=True,
    )
    paths["astronauts"] = tmp / "astronauts.csv"
    pd.DataFrame({"person_id": [1, 1], "year": [2000, 2001], "occ": ["astronaut"] * 2}).to_csv(
        paths["astronauts"], index=False
    )
    return paths


def cases(p: dict[str, Path], tmp: Path) -> list[tuple[str, list[str]]]:
    out = str(tmp / "out")
    return [
        ("a CSV without the default column names", ["compare", "--data", str(p["csv"]), "--out", out]),
        ("a person-year twice", ["compare", "--data", str(p["twice"]), *COLUMNS, "--out", out]),
        ("a bundled panel that does not exist", ["compare", "--data", "nlsw", "--out", out]),
        ("an unknown model", ["compare", "--models", "lstm", "--out", out]),
        ("an origin before the data", ["forecast", "--data", str(p["csv"]), *COLUMNS, "--origin", "1900"]),
        ("a malformed --explain", ["rationalize", "--data", str(p["csv"]), *COLUMNS, "--explain", "x"]),
        ("a panel without wages", ["wages", "--data", "careers"]),
        ("an export without occupation variables", ["harmonize", "nlsy79", str(p["keys"]), "--out", out]),
        ("bare question names, no tagset or codebook", ["harmonize", "nlsy97", str(p["bare"]), "--out", out]),
        (
            "a code outside the frame, --on-unmapped raise",
            ["harmonize", "nlsy97", str(p["nlsy97"]), "--out", out, "--on-unmapped", "raise"],
        ),
        ("a missing PSID file", ["harmonize", "psid", str(tmp / "J1.txt"), "--out", out]),
        ("a file that is not Stata", ["describe", "--data", str(p["dta"])]),
        ("a directory that is no saved model", ["predict", "--model", str(tmp), "--data", str(p["csv"]), "--out", out]),
        (
            "states the model does not know",
            ["predict", "--model", str(p["models"] / "markov1"), "--data", str(p["astronauts"]), "--out", out],
        ),
    ]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="laborseq-errors-"))
    try:
        paths = inputs(tmp)
        rows = []
        for what, argv in cases(paths, tmp):
            run = subprocess.run([LABORSEQ, *argv], capture_output=True, text=True)
            lines = run.stderr.strip().splitlines()
            line = lines[-1] if lines else ""
            shown = " ".join(a if not a.startswith(str(tmp)) else Path(a).name for a in argv[:2])
            rows.append(
                {
                    "command": f"laborseq {shown} ...",
                    "input": what,
                    "printed (standard error)": line.replace(str(tmp) + "/", "").replace(str(ROOT) + "/", ""),
                    "lines": len(lines),
                    "exit": run.returncode,
                }
            )
        table = pd.DataFrame(rows)
        print(table.to_markdown(index=False))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
