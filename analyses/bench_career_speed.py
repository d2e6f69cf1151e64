"""Benchmark: CAREER training throughput (tokens per second) and peak memory.

Trains the ``paper`` configuration (12 layers, width 192, 3 heads, FFN 768,
batches of 16,000 tokens) for a fixed number of updates on synthetic
resume-like careers over the 330 occ1990dd codes, and, as the reference in
the same run, the ``small`` preset (2 layers, width 64) on the same batches.
Each configuration runs in a fresh process so that its peak memory is its
own. Run from the repository root::

    .venv/bin/python analyses/bench_career_speed.py [--steps 20] [--device auto] [--precision auto,fp32]

On CUDA ``--precision auto`` is bf16 autocast; add ``fp32`` to compare. The
script prints tokens per second (padded batches of real person-years; the
padding is not counted), seconds per update, peak memory (CUDA: max allocated;
CPU: peak resident set of the process), and the time the measured rate needs
for the 1.4 billion tokens of the paper's pretraining budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

PAPER_PRETRAINING_TOKENS = 1.4e9
"""85,000 updates of 16,000-token batches, the reference's pretraining budget."""


def child(config_name: str, steps: int, device: str, precision: str, persons: int, threads: int) -> dict:
    """Train one configuration for ``steps`` updates and report its throughput."""
    import torch

    from laborseq.models.career import PRESETS
    from laborseq.nn.career_net import CareerNet, CareerNetConfig, career_loss
    from laborseq.nn.encoding import CareerVocabulary
    from laborseq.nn.train import TrainConfig, train
    from laborseq.nn.transformer import DecoderConfig
    from laborseq.synthetic import SyntheticCareers

    if threads:
        torch.set_num_threads(threads)
    panel = SyntheticCareers(seed=0).sample(persons, population="resume", rng=1)
    vocab = CareerVocabulary.fit(panel)
    data = vocab.encode(panel)
    preset = PRESETS[config_name]
    shape = {k: preset[k] for k in ("n_layers", "d_model", "n_heads", "d_ff") if k in preset}
    torch.manual_seed(0)
    net = CareerNet(CareerNetConfig(len(vocab.states), tuple(v.size for v in vocab.inputs), DecoderConfig(**shape)))
    config = TrainConfig(
        max_steps=steps, max_tokens=16_000, warmup_steps=4_000, device=device, precision=precision, seed=0
    )
    # one warm-up update (allocator, kernels), then the timed run
    train(net, career_loss, data, TrainConfig(**{**config.to_dict(), "max_steps": 1}))
    started = time.perf_counter()
    result = train(net, career_loss, data, config)
    seconds = time.perf_counter() - started
    return {
        "config": config_name,
        "device": str(result_device(device)),
        "precision": precision,
        "parameters": sum(p.numel() for p in net.parameters()),
        "persons": persons,
        "person_years": len(panel),
        "steps": result.steps,
        "tokens": result.tokens,
        "seconds": seconds,
        "tokens_per_second": result.tokens / seconds,
        "seconds_per_step": seconds / result.steps,
        "peak_memory_gb": result.peak_memory_bytes / 1e9,
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() and device != "cpu" else None,
    }


def result_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed updates per configuration")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", help="comma-separated: auto, bf16, fp32")
    parser.add_argument("--configs", default="paper,small")
    parser.add_argument("--persons", type=int, default=20_000, help="synthetic resume-like persons to batch from")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, precision = args.child.split(":")
        report = child(name, args.steps, args.device, precision, args.persons, args.threads)
        print(json.dumps(report))
        return

    rows = []
    for name in args.configs.split(","):
        for precision in args.precision.split(","):
            cmd = [sys.executable, __file__, "--child", f"{name}:{precision}", "--steps", str(args.steps)]
            cmd += ["--device", args.device, "--persons", str(args.persons), "--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  done {name} {precision}", file=sys.stderr)
    print(f"CAREER training throughput, {args.steps} updates of 16,000-token batches after one warm-up update")
    header = "config  device  precision  params  tokens/s  s/update  peak GB  time for 1.4e9 tokens"
    print(header)
    for r in rows:
        hours = PAPER_PRETRAINING_TOKENS / r["tokens_per_second"] / 3600
        print(
            f"{r['config']:<7} {r['device']:<7} {r['precision']:<10} {r['parameters'] / 1e6:5.2f}M "
            f"{r['tokens_per_second']:9,.0f} {r['seconds_per_step']:8.3f} {r['peak_memory_gb']:8.2f} "
            f"{hours:8.1f} h"
        )
    reference = rows[-1]
    for r in rows[:-1]:
        ratio = reference["tokens_per_second"] / r["tokens_per_second"]
        print(f"{r['config']} ({r['precision']}) is {ratio:.1f}x slower than {reference['config']} per token")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
