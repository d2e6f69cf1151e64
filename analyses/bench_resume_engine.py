"""From resume spells to a pretrained CAREER through disk: the DuckDB engine, the token store and training.

Steps, each in a fresh subprocess so that its peak RSS is its own:

1. ``write``: ``--persons`` synthetic resume persons as job spells (``SyntheticCareers.write_spells``: spells,
   ongoing last spells, overlapping side jobs, gap years), streamed to one parquet file (kept files are reused);
2. ``duckdb``: the spells harmonised by ``write_resumes`` (the DuckDB engine, ``--memory-limit``) into a
   partitioned panel dataset: wall time, peak RSS, spells, spell-years, person-years;
3. ``memory`` (with ``--compare``): the same file through ``read_resumes`` (the in-memory engine), and the
   ratio of the two engines' time and peak RSS; the two panels are checked identical;
4. ``store`` (with ``--store``): the dataset encoded into a token store (``write_token_store``): time, peak
   RSS, tokens, size on disk;
5. ``train-store`` (with ``--train-steps N``): the ``small`` CAREER preset pretrained for N updates from the
   store: peak RSS and tokens/s of the updates (evaluation excluded: each path evaluates its own held-out
   persons); ``train-panel`` (with ``--train-panel`` too): the same from the dataset read into memory, the
   reference.

Run (the issue's measurements):
``.venv/bin/python analyses/bench_resume_engine.py --persons 24000000 --store --train-steps 100 --work /tmp/rb``
``.venv/bin/python analyses/bench_resume_engine.py --persons 1000000 --compare --store --train-steps 100
--train-panel --work /tmp/rb``
and compare the training peak RSS of the two runs (flat in corpus size) and tokens/s store / panel.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

STEP = r"""
import json, resource, sys, time
from pathlib import Path
step, work, persons, memory_limit = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]  # argv[5]: steps
spells, dataset = work / f"spells-{persons}.parquet", work / f"panel-{persons}"
start, out = time.perf_counter(), {}
if step == "write":
    import pyarrow.parquet as pq
    from laborseq.synthetic.process import SyntheticCareers
    if not spells.exists():  # a kept file of an earlier run is reused
        SyntheticCareers(seed=0).write_spells(spells, persons, population="resume", rng=1)
    out = {"spells": pq.ParquetFile(spells).metadata.num_rows, "bytes": spells.stat().st_size}
elif step == "duckdb":
    from laborseq.sources.resumes.reader import write_resumes
    written = write_resumes(spells, dataset, education="education", location="location", current_year=2022,
                            memory_limit=memory_limit, temp_directory=work)
    out = {"person_years": written.n_rows, "persons": written.n_persons, "files": len(written.files),
           "spell_years": written.lineage.rows_read, "dropped": written.lineage.dropped_by_reason()}
elif step == "memory":
    import pandas as pd
    from laborseq.panel.chunks import read_parquet_chunks
    from laborseq.sources.resumes.reader import read_resumes
    panel = read_resumes(spells, education="education", location="location", current_year=2022)
    out = {"person_years": len(panel), "spell_years": panel.lineage.rows_read}
    seconds = time.perf_counter() - start
    other = pd.concat([c.data for c in read_parquet_chunks(dataset, 5_000_000)], ignore_index=True)
    ours = panel.data
    same = len(other) == len(ours) and all(
        (other[c].astype(str).to_numpy() == ours[c].astype(str).to_numpy()).all() for c in ours.columns)
    out |= {"identical_to_duckdb": bool(same), "seconds_engine": seconds}
elif step == "store":
    from laborseq.nn.token_store import write_token_store
    written = write_token_store(dataset, work / f"store-{persons}", max_rows=1_000_000)
    out = {"persons": written.n_persons, "tokens": written.n_rows,
           "disk_bytes": sum(f.stat().st_size for f in (work / f"store-{persons}").iterdir())}
else:
    from laborseq.models.career.model import CAREER
    from laborseq.panel.chunks import read_panel_dataset
    data = work / f"store-{persons}" if step == "train-store" else read_panel_dataset(dataset)
    model = CAREER.preset("small", max_steps=int(sys.argv[5]), patience=None, device="cpu").fit(data, rng=0)
    t = model.training_
    # the last evaluation (at the stop) is on each path's own held-out persons (the store: at most 20,000;
    # a panel: 10%), so throughput is compared on the updates alone: the history's rate excludes evaluations
    out = {"tokens": t["tokens"], "tokens_per_second": t["history"][-1]["tokens_per_second"],
           "tokens_per_second_with_evaluation": t["tokens_per_second"], "precision": t["precision"]}
out |= {"step": step, "persons": persons, "seconds": time.perf_counter() - start,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
print(json.dumps(out))
"""


def run(step: str, work: Path, persons: int, memory_limit: str, steps: int = 0) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", STEP, step, str(work), str(persons), memory_limit, str(steps)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB's memory limit")
    parser.add_argument("--compare", action="store_true", help="also run the in-memory engine on the same file")
    parser.add_argument("--store", action="store_true", help="also encode the dataset into a token store")
    parser.add_argument("--train-steps", type=int, default=0, help="with --store: pretrain this many updates")
    parser.add_argument("--train-panel", action="store_true", help="with --train-steps: also from memory")
    parser.add_argument("--work", default="/tmp/laborseq-resume-bench")
    parser.add_argument("--keep", action="store_true", help="keep the spells, the dataset and the store")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    gb = 1024**3
    written = run("write", work, args.persons, args.memory_limit)
    dataset = work / f"panel-{args.persons}"
    shutil.rmtree(dataset, ignore_errors=True)
    engine = run("duckdb", work, args.persons, args.memory_limit)
    print(
        f"{args.persons:,} persons: {written['spells']:,} spells, {engine['spell_years']:,} spell-years, "
        f"{engine['person_years']:,} person-years; DuckDB engine {engine['seconds']:.0f} s, "
        f"peak RSS {engine['peak_rss_bytes'] / gb:.2f} GiB (memory_limit {args.memory_limit})"
    )
    if args.compare:
        memory = run("memory", work, args.persons, args.memory_limit)
        print(
            f"in-memory engine {memory['seconds_engine']:.0f} s, peak RSS {memory['peak_rss_bytes'] / gb:.2f} GiB; "
            f"DuckDB / in-memory: time {engine['seconds'] / memory['seconds_engine']:.2f}x, "
            f"peak RSS {engine['peak_rss_bytes'] / memory['peak_rss_bytes']:.2f}x; "
            f"identical panels: {memory['identical_to_duckdb']}"
        )
    if args.store:
        shutil.rmtree(work / f"store-{args.persons}", ignore_errors=True)
        store = run("store", work, args.persons, args.memory_limit)
        print(
            f"token store: {store['tokens']:,} tokens of {store['persons']:,} persons in {store['seconds']:.0f} s, "
            f"peak RSS {store['peak_rss_bytes'] / gb:.2f} GiB, {store['disk_bytes'] / gb:.2f} GiB on disk"
        )
    if args.store and args.train_steps:
        trained = run("train-store", work, args.persons, args.memory_limit, args.train_steps)
        print(
            f"pretraining from the store, {args.train_steps} updates: peak RSS "
            f"{trained['peak_rss_bytes'] / gb:.3f} GiB, {trained['tokens_per_second']:,.0f} tokens/s"
        )
        if args.train_panel:
            panel = run("train-panel", work, args.persons, args.memory_limit, args.train_steps)
            print(
                f"pretraining from the panel in memory: peak RSS {panel['peak_rss_bytes'] / gb:.3f} GiB, "
                f"{panel['tokens_per_second']:,.0f} tokens/s; tokens/s store / panel "
                f"{trained['tokens_per_second'] / panel['tokens_per_second']:.3f}"
            )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
