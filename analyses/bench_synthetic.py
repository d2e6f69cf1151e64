"""Benchmark: synthetic careers over the 330 occ1990dd codes (plus ``unemployed``).

Times, each in a fresh process so that peak resident memory is its own:

* ``sample``: :meth:`SyntheticCareers.sample` of 100,000 survey-like persons;
* ``write``: :meth:`SyntheticCareers.write_parquet` of 1,000,000 resume-like
  persons to a temporary directory (chunks of 100,000);
* ``loglik``: :meth:`SyntheticCareers.log_likelihood` (exact forward filter) on
  100,000 survey-like persons (sampling not timed).

Run from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python analyses/bench_synthetic.py [--persons 100000] [--write-persons 1000000]

Each line reports wall seconds, person-years and the peak RSS of the process
(``resource.getrusage``, which includes the interpreter and imports).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from laborseq.synthetic import SyntheticCareers

PARTS = ("sample", "write", "loglik")


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_part(part: str, persons: int, write_persons: int, seed: int) -> dict[str, float | int | str]:
    """Time one part in this process."""
    process = SyntheticCareers(seed=seed)
    if part == "sample":
        start = time.perf_counter()
        panel = process.sample(persons, "survey", rng=1)
        seconds, rows, n = time.perf_counter() - start, len(panel), persons
    elif part == "write":
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            path = process.write_parquet(Path(tmp) / "resume.parquet", write_persons, "resume", rng=2)
            seconds = time.perf_counter() - start
            rows = pq.ParquetFile(path).metadata.num_rows
            size_mb = path.stat().st_size / 2**20
        n = write_persons
    elif part == "loglik":
        panel = process.sample(persons, "survey", rng=3)
        start = time.perf_counter()
        ll = process.log_likelihood(panel)
        seconds, rows, n = time.perf_counter() - start, len(ll), persons
    else:
        raise ValueError(f"unknown part {part!r}; choose from {PARTS}")
    out: dict[str, float | int | str] = {
        "part": part,
        "persons": n,
        "rows": int(rows),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    if part == "write":
        out["file_mb"] = round(size_mb, 1)
    if part == "loglik":
        out["oracle_perplexity"] = round(float(process.oracle_perplexity(panel)), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--write-persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=PARTS, help="run one part in this process (used internally)")
    args = parser.parse_args()
    if args.part:
        print(json.dumps(run_part(args.part, args.persons, args.write_persons, args.seed)))
        return
    for part in PARTS:
        cmd = [sys.executable, __file__, "--part", part, "--persons", str(args.persons)]
        cmd += ["--write-persons", str(args.write_persons), "--seed", str(args.seed)]
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        extra = {k: v for k, v in result.items() if k not in ("part", "persons", "rows", "seconds", "peak_rss_mb")}
        print(
            f"{result['part']:<7} {result['persons']:>9,} persons {result['rows']:>11,} rows "
            f"{result['seconds']:>7.2f} s  peak RSS {result['peak_rss_mb']:>6,} MiB  {extra or ''}"
        )


if __name__ == "__main__":
    main()
