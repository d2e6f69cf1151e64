"""Benchmark: CAREER training throughput (tokens per second) and peak memory.

Trains the ``paper`` configuration (12 layers, width 192, 3 heads, FFN 768,
batches of 16,000 tokens) for a fixed number of updates on synthetic
resume-like careers over the 330 occ1990dd codes, and, as the reference in
the same run, the ``small`` preset (2 layers, width 64) on the same batches.
Each configuration runs in a fresh process so that its peak memory is its
own. Run from the repository root::

    .venv/bin/python analyses/bench_career_speed.py [--steps 20] [--device auto] [--precision auto,fp32]

On a GPU (the issue's measurement: the paper configuration in bf16, eager and
compiled, with batches large enough to fill the device)::

    .venv/bin/python analyses/bench_career_speed.py --device cuda --configs paper --precision auto \
        --max-tokens 16000,131072 --compile both --persons 200000 --steps 50 --warmup 10

``--precision auto`` follows :func:`laborseq.nn.accelerator.precision_policy`
(bf16 on CUDA devices with native bfloat16, fp16 with loss scaling on older
ones, fp32 on the CPU); the policy's choice is printed. The script prints
tokens per second (padded batches of real person-years; the padding is not
counted), seconds per update, peak memory (CUDA: max allocated; CPU: peak
resident set of the process), an estimate of the model FLOP utilisation on
GPUs whose peak it knows (training FLOPs per token ~ 6 x non-embedding
parameters + 12 x layers x width x mean sequence length, over the device's
dense bf16 peak), and the time the measured rate needs for the 1.4 billion
tokens of the paper's pretraining budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

PAPER_PRETRAINING_TOKENS = 1.4e9
"""85,000 updates of 16,000-token batches, the reference's pretraining budget."""

PEAK_BF16_TFLOPS = {"H100 80GB HBM3": 989.4, "H100 PCIe": 756.0, "H100 NVL": 835.0, "H200": 989.4, "A100": 312.0}
"""Dense bf16 tensor-core peaks (NVIDIA data sheets) by a part of the device name; others need --peak-tflops."""


def child(
    config_name: str,
    steps: int,
    device: str,
    precision: str,
    persons: int,
    threads: int,
    max_tokens: int,
    compile_: bool,
    warmup: int,
) -> dict:
    """Train one configuration for ``steps`` updates (after ``warmup`` untimed ones) and report its throughput."""
    import numpy as np
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
    decoder = DecoderConfig(**shape)
    torch.manual_seed(0)
    net = CareerNet(CareerNetConfig(len(vocab.states), tuple(v.size for v in vocab.inputs), decoder))
    config = TrainConfig(
        max_steps=warmup + steps,
        max_tokens=max_tokens,
        warmup_steps=4_000,
        device=device,
        precision=precision,
        compile=compile_,
        seed=0,
    )
    marks: dict[int, tuple[float, int]] = {}

    def clock(state) -> None:  # wall time and tokens after the warm-up and at the end
        if state.step in (warmup, warmup + steps):
            if torch.cuda.is_available() and device != "cpu":
                torch.cuda.synchronize()
            marks[state.step] = (time.perf_counter(), state.tokens)

    if warmup == 0:
        marks[0] = (time.perf_counter(), 0)
    result = train(net, career_loss, data, config, callback=clock)
    (t0, k0), (t1, k1) = marks[warmup], marks[warmup + steps]
    seconds, tokens = t1 - t0, k1 - k0
    non_embedding = sum(p.numel() for name, p in net.named_parameters() if "embed" not in name)
    mean_length = float(np.mean(data.lengths()))
    flops_per_token = 6 * non_embedding + 12 * decoder.n_layers * decoder.d_model * mean_length
    return {
        "config": config_name,
        "device": str(result_device(device)),
        "precision": precision,
        "policy": result.precision,
        "compile": compile_,
        "max_tokens": max_tokens,
        "parameters": sum(p.numel() for p in net.parameters()),
        "persons": persons,
        "person_years": len(panel),
        "steps": steps,
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_second": tokens / seconds,
        "seconds_per_step": seconds / steps,
        "peak_memory_gb": result.peak_memory_bytes / 1e9,
        "flops_per_token": flops_per_token,
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() and device != "cpu" else None,
    }


def peak_flops(gpu: str | None, override: float | None) -> float | None:
    """The device's dense bf16 peak in FLOP/s, if known."""
    if override:
        return override * 1e12
    for part, tflops in PEAK_BF16_TFLOPS.items():
        if gpu and part in gpu:
            return tflops * 1e12
    return None


def result_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed updates per configuration")
    parser.add_argument("--warmup", type=int, default=1, help="untimed updates first (allocator, kernels, compile)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", help="comma-separated: auto, bf16, fp16, fp32")
    parser.add_argument("--configs", default="paper,small")
    parser.add_argument("--max-tokens", default="16000", help="comma-separated tokens per update")
    parser.add_argument("--compile", choices=("no", "yes", "both"), default="no", help="torch.compile the model")
    parser.add_argument("--persons", type=int, default=20_000, help="synthetic resume-like persons to batch from")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="device's dense bf16 peak, for the MFU")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, precision, max_tokens, compile_ = args.child.split(":")
        report = child(
            name,
            args.steps,
            args.device,
            precision,
            args.persons,
            args.threads,
            int(max_tokens),
            compile_ == "yes",
            args.warmup,
        )
        print(json.dumps(report))
        return

    rows = []
    compiles = ["no", "yes"] if args.compile == "both" else [args.compile]
    for name in args.configs.split(","):
        for precision in args.precision.split(","):
            for max_tokens in args.max_tokens.split(","):
                for compile_ in compiles:
                    spec = f"{name}:{precision}:{max_tokens}:{compile_}"
                    cmd = [sys.executable, __file__, "--child", spec, "--steps", str(args.steps)]
                    cmd += ["--device", args.device, "--persons", str(args.persons), "--threads", str(args.threads)]
                    cmd += ["--warmup", str(args.warmup)]
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(f"  done {spec}", file=sys.stderr)
    print(f"CAREER training throughput, {args.steps} timed updates after {args.warmup} warm-up update(s)")
    header = "config  device  precision (policy)  compile  tokens/update  params  tokens/s  s/update  peak GB  MFU"
    print(header + "  time for 1.4e9 tokens")
    for r in rows:
        hours = PAPER_PRETRAINING_TOKENS / r["tokens_per_second"] / 3600
        peak = peak_flops(r["gpu"], args.peak_tflops)
        mfu = f"{r['flops_per_token'] * r['tokens_per_second'] / peak:5.1%}" if peak else "  n/a"
        print(
            f"{r['config']:<7} {r['device']:<7} {r['precision']} ({r['policy'].split(' ')[0]})  {r['compile']!s:<5} "
            f"{r['max_tokens']:>8,} {r['parameters'] / 1e6:5.2f}M {r['tokens_per_second']:10,.0f} "
            f"{r['seconds_per_step']:8.3f} {r['peak_memory_gb']:8.2f} {mfu}  {hours:8.2f} h"
        )
    if rows and rows[0]["gpu"]:
        print(f"device: {rows[0]['gpu']}")
    if len(rows) > 1:
        reference = rows[-1]
        for r in rows[:-1]:
            ratio = reference["tokens_per_second"] / r["tokens_per_second"]
            print(
                f"{r['config']} ({r['precision']}, {r['max_tokens']}, compile {r['compile']}): {ratio:.2f}x the "
                f"time per token of the last row"
            )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
