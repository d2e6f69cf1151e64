"""Benchmark: harmonise a synthetic NLSY79 export of 1,000,000 persons x 20 rounds.

The export has the NLS Investigator layout (CSV, header = reference numbers):
the person id ``R0000100``, the three sample variables, and one occupation
variable per round for 20 rounds (CPSOCC70 1979-1981, CPSOCC80 1982-1994 and
1996-2000 biennial, the employer roster OCCALL-EMP.01 in 2002 and 2004, the
latter in the 4-digit frame). Codes are drawn from the real crosswalk tables,
with the survey's missing codes (-1 to -5), "did not work" (995) and a few
unmapped codes mixed in.

Run from the repository root::

    .venv/bin/python analyses/bench_harmonize_nlsy79.py [--persons 1000000]

It writes the export to a temporary directory, then runs ``read_nlsy79`` in a
fresh process and prints its wall time and peak resident memory, next to a
reference run in that process: reading the same CSV with ``pyarrow.csv`` alone
(the floor any reader pays). Aim: under 60 s and 4 GB on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from laborseq.occupations.occ1990dd import taxonomy_file

ROUNDS: list[tuple[str, str, int]] = [
    ("R0046400", "occ1970", 1979),
    ("R0263400", "occ1970", 1980),
    ("R0446400", "occ1970", 1981),
    ("R0828000", "occ1980", 1982),
    ("R0945300", "occ1980", 1983),
    ("R1255700", "occ1980", 1984),
    ("R1650500", "occ1980", 1985),
    ("R1923100", "occ1980", 1986),
    ("R2317900", "occ1980", 1987),
    ("R2525700", "occ1980", 1988),
    ("R2924700", "occ1980", 1989),
    ("R3127400", "occ1980", 1990),
    ("R3523100", "occ1980", 1991),
    ("R3728100", "occ1980", 1992),
    ("R4193700", "occ1980", 1993),
    ("R4587901", "occ1980", 1994),
    ("R5270900", "occ1980", 1996),
    ("R6473700", "occ1980", 1998),
    ("R7209600", "occ2000", 2002),
    ("R7898000", "occ2000_4digit", 2004),
]
"""(reference number, frame, year): real NLSY79 reference numbers (docs/survey-formats.md)."""

FILES = {
    "occ1970": "crosswalk_occ1970_occ1990dd.csv",
    "occ1980": "crosswalk_occ1980_occ1990dd_deming2017.csv",
    "occ2000": "crosswalk_occ2000_occ1990dd.csv",
}


def write_export(path: Path, n_persons: int, seed: int = 0) -> None:
    """Write the synthetic export (columns generated round by round to bound memory)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {
        "R0000100": np.arange(1, n_persons + 1, dtype=np.int64),
        "R0173600": rng.integers(1, 21, n_persons),
        "R0214700": rng.integers(1, 4, n_persons),
        "R0214800": rng.integers(1, 3, n_persons),
    }
    specials = np.array([-1, -2, -3, -4, -5, 995, 12345])
    for refnum, frame, _year in ROUNDS:
        valid = taxonomy_file(FILES[frame.removesuffix("_4digit")])["from_code"].to_numpy()
        codes = rng.choice(valid, n_persons)
        if frame.endswith("_4digit"):
            codes = codes * 10
        special = rng.random(n_persons) < 0.15
        codes[special] = rng.choice(specials, int(special.sum()))
        columns[refnum] = codes.astype(np.int64)
    pacsv.write_csv(pa.table(columns), path)


def reference_read(path: Path) -> float:
    """Seconds to read the CSV with pyarrow alone."""
    start = time.perf_counter()
    pacsv.read_csv(path)
    return time.perf_counter() - start


CHILD = """
import json, resource, sys, time
from laborseq.sources.nlsy.nlsy79 import read_nlsy79
start = time.perf_counter()
panel = read_nlsy79(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "person_years": len(panel), "persons": panel.n_persons,
                  "rows_read": panel.lineage.rows_read, "rows_dropped": panel.lineage.rows_dropped}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        start = time.perf_counter()
        write_export(path, args.persons)
        size_mb = path.stat().st_size / 1e6
        elapsed = time.perf_counter() - start
        print(f"wrote {args.persons:,} persons x {len(ROUNDS)} rounds ({size_mb:,.0f} MB) in {elapsed:.1f} s")
        ref = reference_read(path)
        print(f"reference: pyarrow.csv.read_csv alone            {ref:6.1f} s")
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"read_nlsy79 (fresh process)                    {result['seconds']:6.1f} s, "
            f"peak RSS {result['peak_gb']:.2f} GB ({result['seconds'] / ref:.1f}x the bare CSV read)"
        )
        print(
            f"  {result['rows_read']:,} candidate person-rounds -> {result['person_years']:,} person-years of "
            f"{result['persons']:,} persons; {result['rows_dropped']:,} counted drops"
        )


if __name__ == "__main__":
    main()
