"""Pretraining from a token store on disk: encoding cost, and training memory that does not grow with the corpus.

For each corpus size (synthetic resume-like persons from ``SyntheticCareers(seed=0)``, written to parquet in
chunks), in a fresh subprocess each so that peak memory is the step's own:

1. ``write``: the corpus to a panel parquet file (``SyntheticCareers.write_parquet``);
2. ``store``: the file to a token store (``write_token_store``, streamed ``--max-rows`` rows at a time):
   wall time, peak RSS, size on disk;
3. ``train-store``: the ``small`` CAREER preset pretrained for ``--steps`` updates from the store;
4. ``train-panel`` (the smallest corpus only): the same from the panel read into memory, the reference.

It prints one row per step with seconds, peak RSS, tokens and tokens/s, and the ratios the issue asks for:
training peak RSS of the largest over the smallest store, and tokens/s from the store over tokens/s from
the in-memory panel.

Run: ``.venv/bin/python analyses/bench_token_store.py --persons 1000000 4000000 --steps 100 --work /tmp/store-bench``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

STEP = r"""
import json, resource, sys, time
from pathlib import Path
step, work = sys.argv[1], Path(sys.argv[2])
persons, steps, max_rows = (int(a) for a in sys.argv[3:6])
corpus, store = work / f"resumes-{persons}.parquet", work / f"store-{persons}"
start, out = time.perf_counter(), {}
if step == "write":
    from laborseq.synthetic.process import SyntheticCareers
    SyntheticCareers(seed=0).write_parquet(corpus, persons, population="resume", rng=1)
elif step == "store":
    from laborseq.nn.token_store import write_token_store
    written = write_token_store(corpus, store, max_rows=max_rows)
    out = {"persons": written.n_persons, "tokens": written.n_rows,
           "disk_bytes": sum(f.stat().st_size for f in store.iterdir())}
else:
    from laborseq.models.career.model import CAREER
    from laborseq.panel import CareerPanel
    data = store if step == "train-store" else CareerPanel.read_parquet(corpus)
    loaded = time.perf_counter()
    model = CAREER.preset("small", max_steps=steps, patience=None, device="cpu").fit(data, rng=0)
    t = model.training_
    out = {"tokens": t["tokens"], "train_seconds": t["seconds"], "tokens_per_second": t["tokens_per_second"],
           "load_seconds": loaded - start}
out |= {"step": step, "persons": persons, "seconds": time.perf_counter() - start,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
print(json.dumps(out))
"""


def run(step: str, work: Path, persons: int, steps: int, max_rows: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", STEP, step, str(work), str(persons), str(steps), str(max_rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--steps", type=int, default=100, help="training updates (16,000-token batches)")
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    parser.add_argument("--work", default="/tmp/laborseq-store-bench")
    parser.add_argument("--keep", action="store_true", help="keep the corpora and stores")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = []
    sizes = sorted(args.persons)
    for persons in sizes:
        for step in ("write", "store", "train-store") + (("train-panel",) if persons == sizes[0] else ()):
            results.append(run(step, work, persons, args.steps, args.max_rows))
    train = {(r["step"], r["persons"]): r for r in results if r["step"].startswith("train")}
    small, large = train["train-store", sizes[0]], train["train-store", sizes[-1]]
    panel = train["train-panel", sizes[0]]
    print(
        f"\ntraining peak RSS, store of {sizes[-1]:,} persons / store of {sizes[0]:,}: "
        f"{large['peak_rss_bytes'] / small['peak_rss_bytes']:.3f}"
    )
    print(
        f"tokens/s from the store / from the in-memory panel ({sizes[0]:,} persons): "
        f"{small['tokens_per_second'] / panel['tokens_per_second']:.3f}; peak RSS "
        f"{small['peak_rss_bytes'] / 2**20:,.0f} MiB vs {panel['peak_rss_bytes'] / 2**20:,.0f} MiB"
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
