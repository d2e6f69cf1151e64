"""Training throughput from a token store on disk against the same persons encoded in memory, in one process.

The store path (memory maps, batches formed block by block, pages released as training goes) and the in-memory
path (an ``EncodedPanel`` of the same panel, with the store's vocabulary, batched over the whole corpus) train
the same ``small`` CAREER network for ``--steps`` updates, alternately ``--rounds`` times in one process, so
that both see the same machine load; the script prints each run's tokens per second (updates only) and the
ratio of the medians, store over memory.

Run: ``.venv/bin/python analyses/bench_store_vs_memory.py --store /tmp/rb1m/store-1000000 --panel
/tmp/rb1m/panel-1000000`` (written by ``analyses/bench_resume_engine.py --persons 1000000 --store --keep``).
"""

from __future__ import annotations

import argparse
import statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--panel", required=True, help="the panel dataset the store was written from")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import torch

    from laborseq.models.career.presets import PRESETS
    from laborseq.nn.career_net import CareerNet, CareerNetConfig, career_loss
    from laborseq.nn.token_store import open_token_store
    from laborseq.nn.train import TrainConfig, train
    from laborseq.nn.transformer import DecoderConfig
    from laborseq.panel.chunks import read_panel_dataset

    store = open_token_store(args.store)
    vocab = store.vocabulary
    memory = vocab.encode(read_panel_dataset(args.panel))
    preset = PRESETS["small"]
    shape = {k: preset[k] for k in ("n_layers", "d_model", "n_heads", "d_ff", "dropout", "attn_dropout")}

    def run(source) -> float:
        torch.manual_seed(0)
        net = CareerNet(CareerNetConfig(len(vocab.states), tuple(v.size for v in vocab.inputs), DecoderConfig(**shape)))
        config = TrainConfig(
            lr=preset["lr"],
            warmup_steps=200,
            max_steps=args.steps,
            max_tokens=preset["max_tokens"],
            device="cpu",
            seed=0,
        )
        return train(net, career_loss, source, config).tokens_per_second

    rates: dict[str, list[float]] = {"store": [], "memory": []}
    for _ in range(args.rounds):
        for name, source in (("store", store), ("memory", memory)):
            rates[name].append(run(source))
            print(f"{name:<6} {rates[name][-1]:10,.0f} tokens/s", flush=True)
    ratio = statistics.median(rates["store"]) / statistics.median(rates["memory"])
    print(
        f"median tokens/s: store {statistics.median(rates['store']):,.0f}, memory "
        f"{statistics.median(rates['memory']):,.0f}; store / memory {ratio:.3f} ({store.n_persons:,} persons)"
    )


if __name__ == "__main__":
    main()
