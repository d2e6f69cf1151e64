"""Data-parallel pretraining from a token store: each rank's peak RSS under ``torchrun`` (gloo on CPU).

Every rank opens the store's memory maps and reads only its own batches (every ``world_size``-th batch of the
epoch plan), so a rank's memory should not grow with the corpus, nor with the number of ranks. The script
launches ``torchrun --nproc-per-node N`` on a worker that pretrains the ``small`` CAREER preset for
``--steps`` updates from ``--store`` and prints, per rank, its peak RSS, the tokens it read and its tokens/s;
then the same run in one process, the reference.

Run: ``.venv/bin/python analyses/bench_ddp_store.py --store /tmp/rb24/store-24000000 --nproc 2 --steps 50``
(a store written by ``analyses/bench_resume_engine.py --store --keep``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = r"""
import json, os, resource, sys, time
import torch
from laborseq.models.career.model import CAREER
torch.set_num_threads(1)
store, steps = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
model = CAREER.preset("small", max_steps=steps, patience=None, device="cpu").fit(store, rng=0)
t = model.training_
rank = int(os.environ.get("RANK", 0))
record = {"rank": rank, "world_size": int(os.environ.get("WORLD_SIZE", 1)),
          "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
          "tokens_all_ranks": t["tokens"], "tokens_per_second_all_ranks": t["tokens_per_second"],
          "seconds": time.perf_counter() - start}
with open(os.path.join(sys.argv[3], f"rank-{rank}-of-{record['world_size']}.json"), "w") as handle:
    json.dump(record, handle)  # one file per rank: torchrun interleaves the ranks' standard output
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        worker = Path(tmp) / "worker.py"
        worker.write_text(WORKER)
        torchrun = Path(sys.executable).parent / "torchrun"
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run(
            [str(torchrun), "--nproc-per-node", str(args.nproc), str(worker), args.store, str(args.steps), tmp],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        ranks = [json.loads((Path(tmp) / f"rank-{r}-of-{args.nproc}.json").read_text()) for r in range(args.nproc)]
        subprocess.run(
            [sys.executable, str(worker), args.store, str(args.steps), tmp], capture_output=True, check=True, env=env
        )
        alone = json.loads((Path(tmp) / "rank-0-of-1.json").read_text())
    gb = 1024**3
    for r in ranks:
        print(f"rank {r['rank']} of {r['world_size']}: peak RSS {r['peak_rss_bytes'] / gb:.3f} GiB")
    print(f"one process: peak RSS {alone['peak_rss_bytes'] / gb:.3f} GiB")
    print(
        f"{args.nproc} ranks: {ranks[0]['tokens_per_second_all_ranks']:,.0f} tokens/s over all ranks; one process: "
        f"{alone['tokens_per_second_all_ranks']:,.0f} tokens/s (one thread per process)"
    )
    print(json.dumps({"ranks": ranks, "single": alone}))


if __name__ == "__main__":
    main()
