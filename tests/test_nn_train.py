"""The plain-torch training loop of laborseq.nn: schedule, batching, training, checkpoints and resume."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
import torch
from ddp_worker import VOCAB, ToyData, ToyModel, make_model, reference_train, toy_loss

from laborseq.nn import checkpoint
from laborseq.nn.batching import BatchSource, EpochPlan, epoch_batches, token_budget_batches
from laborseq.nn.checkpoint import load_checkpoint, load_weights, save_checkpoint
from laborseq.nn.distributed import DistInfo, ShardView, shard_batches
from laborseq.nn.schedule import inverse_sqrt_lr
from laborseq.nn.train import TrainConfig, TrainState, evaluate, train


def config(**overrides) -> TrainConfig:
    # fp32: these tests compare against exact references ("auto" is bf16 on CPUs that compute it natively)
    base = {"lr": 1e-2, "warmup_steps": 5, "max_steps": 30, "max_tokens": 64, "device": "cpu", "seed": 0}
    base["precision"] = "fp32"
    return TrainConfig(**{**base, **overrides})


@pytest.fixture(scope="module")
def data() -> tuple[ToyData, ToyData]:
    return ToyData(200, seed=1), ToyData(60, seed=2)


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def valid_loss(module: torch.nn.Module, data: BatchSource) -> float:
    return evaluate(module, toy_loss, data, max_tokens=64, precision="fp32")


# ---------------------------------------------------------------------------- schedule
def test_inverse_sqrt_schedule():
    kw = {"lr": 5e-4, "warmup_steps": 4000, "warmup_init_lr": 1e-7}
    assert inverse_sqrt_lr(0, **kw) == pytest.approx(1e-7)
    assert inverse_sqrt_lr(2000, **kw) == pytest.approx((1e-7 + 5e-4) / 2)
    assert inverse_sqrt_lr(4000, **kw) == pytest.approx(5e-4)
    assert inverse_sqrt_lr(16000, **kw) == pytest.approx(2.5e-4)
    assert inverse_sqrt_lr(3999, **kw) < inverse_sqrt_lr(4000, **kw) > inverse_sqrt_lr(4001, **kw)
    assert inverse_sqrt_lr(4, lr=1.0, warmup_steps=0, warmup_init_lr=0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        inverse_sqrt_lr(-1, **kw)


# ---------------------------------------------------------------------------- batching
@pytest.mark.parametrize("shuffle", [False, True])
def test_token_budget_batches(shuffle):
    lengths = np.random.default_rng(0).integers(1, 40, size=500)
    lengths[[3, 77]] = [150, 101]  # longer than the budget
    batches = token_budget_batches(lengths, 100, shuffle=shuffle, rng=np.random.default_rng(5))
    flat = np.concatenate(batches)
    assert np.array_equal(np.sort(flat), np.arange(len(lengths)))  # every sequence exactly once
    for batch in batches:
        lens = lengths[batch]
        assert np.all(np.diff(lens) >= 0)  # shortest first
        assert len(batch) * lens.max() <= 100 or len(batch) == 1
    assert [b.tolist() for b in batches if lengths[b].max() > 100] == [[77], [3]] or shuffle
    assert {tuple(b) for b in batches if lengths[b].max() > 100} == {(3,), (77,)}
    if not shuffle:  # greedy: each batch is full, in that adding the next sequence would break the budget
        assert all((len(a) + 1) * lengths[b[0]] > 100 for a, b in itertools.pairwise(batches))
        assert np.all(np.diff(lengths[flat]) >= 0)


def test_token_budget_batches_pack_as_adding_one_sequence_at_a_time():
    def greedy(lengths: list[int], max_tokens: int) -> list[list[int]]:  # the rule, one sequence at a time
        out, start = [], 0
        for i, length in enumerate(lengths):
            if i > start and (i - start + 1) * length > max_tokens:
                out.append(list(range(start, i)))
                start = i
        return out + ([list(range(start, len(lengths)))] if start < len(lengths) else [])

    rng = np.random.default_rng(0)
    for _ in range(500):
        lengths = np.sort(rng.integers(1, int(rng.integers(2, 30)), int(rng.integers(0, 80))))
        max_tokens = int(rng.integers(1, 60))
        got = token_budget_batches(lengths, max_tokens, shuffle=False, rng=None)
        assert [b.tolist() for b in got] == greedy(lengths.tolist(), max_tokens)


def test_token_budget_batches_is_deterministic_given_rng():
    lengths = np.random.default_rng(1).integers(1, 20, size=300)
    a = token_budget_batches(lengths, 64, shuffle=True, rng=np.random.default_rng(7))
    b = token_budget_batches(lengths, 64, shuffle=True, rng=np.random.default_rng(7))
    c = token_budget_batches(lengths, 64, shuffle=True, rng=np.random.default_rng(8))
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert [x.tolist() for x in a] != [x.tolist() for x in c]
    assert len(a) == len(c)  # the packing depends on the lengths only
    assert [x.tolist() for x in epoch_batches(lengths, 64, seed=0, epoch=1)] != [
        x.tolist() for x in epoch_batches(lengths, 64, seed=0, epoch=2)
    ]
    with pytest.raises(ValueError, match="rng"):
        token_budget_batches(lengths, 64, shuffle=True, rng=None)


def test_shard_batches_pads_training_by_repetition_and_not_evaluation():
    batches = list(range(5))
    shards = [shard_batches(batches, DistInfo(rank=r, world_size=2)) for r in range(2)]
    assert shards == [[0, 2, 4], [1, 3, 0]]
    assert [shard_batches(batches, DistInfo(rank=r, world_size=2), pad=False) for r in range(2)] == [[0, 2, 4], [1, 3]]
    assert shard_batches([7], DistInfo(rank=2, world_size=3)) == [7]
    assert shard_batches(batches, DistInfo()) == batches


def test_toy_data_is_a_batch_source(data):
    assert isinstance(data[0], BatchSource)


# ---------------------------------------------------------------------------- training
def test_training_learns_the_toy_task(data):
    train_data, valid_data = data
    module = make_model()
    before = valid_loss(module, valid_data)
    result = train(module, toy_loss, train_data, config(max_steps=60), valid_data=valid_data)
    after = valid_loss(module, valid_data)
    # the rule is deterministic 90% of the time: the entropy is about 0.9 nats, uniform guessing log(16) = 2.77
    assert before > 2.5
    assert after < 1.3
    assert result.best_valid_loss == pytest.approx(after)
    assert result.stopped == "max_steps" and result.steps == 60
    assert result.tokens > 0 and result.tokens_per_second > 0 and result.peak_memory_bytes > 0
    entries = result.history
    assert [h["step"] for h in entries] == sorted(h["step"] for h in entries) and entries[-1]["step"] == 60
    assert entries[0]["train_loss"] > entries[-1]["train_loss"]


def test_matches_a_plain_reference_loop(data):
    cfg = config(max_steps=20, clip_norm=0.3, max_tokens=48)
    module, reference = make_model(), make_model()
    train(module, toy_loss, data[0], cfg)
    reference_train(reference, data[0], cfg)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(module.state_dict()[key], value, rtol=1e-6, atol=1e-7)


def test_same_seed_same_weights_and_different_seed_differs(data):
    runs = []
    for seed in (0, 0, 1):
        module = make_model()
        train(module, toy_loss, data[0], config(max_steps=15, seed=seed))
        runs.append(weights(module))
    assert_same(runs[0], runs[1])
    assert not torch.equal(runs[0]["out.weight"], runs[2]["out.weight"])


def test_max_epochs_and_end_of_epoch_evaluation(data):
    train_data, valid_data = data
    n = len(epoch_batches(train_data.lengths(), 64, seed=0, epoch=0))
    result = train(make_model(), toy_loss, train_data, config(max_steps=None, max_epochs=2), valid_data=valid_data)
    assert result.stopped == "max_epochs" and result.steps == 2 * n and result.epochs == 2.0
    assert [h["step"] for h in result.history] == [n, 2 * n]
    assert result.tokens == 2 * train_data.lengths().sum()


def test_early_stopping_ends_with_the_best_weights(data, tmp_path):
    train_data = data[0]
    shifted = ToyData(60, seed=2, shift=3)  # validation follows another rule, so fitting the training rule hurts
    module = make_model()
    cfg = config(max_steps=300, eval_every=2, patience=3, lr=3e-2, warmup_steps=1)
    result = train(module, toy_loss, train_data, cfg, valid_data=shifted, checkpoint_dir=tmp_path)
    assert result.stopped == "early_stopping"
    assert result.steps == result.best_step + 3 * 2
    losses = [h["valid_loss"] for h in result.history]
    assert min(losses) == result.best_valid_loss and losses[-1] > result.best_valid_loss
    assert valid_loss(module, shifted) == pytest.approx(result.best_valid_loss, rel=1e-6)
    last = ToyModel()
    load_weights(tmp_path / "last", last)
    assert valid_loss(last, shifted) == pytest.approx(losses[-1], rel=1e-6)
    best = ToyModel()
    load_weights(tmp_path / "best", best)
    assert_same(weights(best), weights(module))


def test_gradient_clipping_bounds_the_gradient_norm(data):
    norms = {}
    for clip in (None, 0.01):
        module, seen = make_model(), []

        def record(state: TrainState, module=module, seen=seen) -> None:  # grads of the step just made, after clipping
            seen.append(math.sqrt(sum(float(p.grad.pow(2).sum()) for p in module.parameters())))

        train(module, toy_loss, data[0], config(max_steps=5, clip_norm=clip), callback=record)
        norms[clip] = seen
    assert min(norms[None]) > 0.05
    assert max(norms[0.01]) <= 0.01 * (1 + 1e-4)


def test_bf16_autocast_on_cpu(data):
    dtypes = set()

    def loss_fn(model, batch):
        dtypes.add(model(batch["tokens"][:, :1]).dtype)
        return toy_loss(model, batch)

    module = make_model()
    result = train(module, loss_fn, data[0], config(max_steps=4, precision="bf16"), valid_data=data[1])
    assert dtypes == {torch.bfloat16}
    assert math.isfinite(result.history[-1]["train_loss"]) and math.isfinite(result.best_valid_loss)
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_progress_bar_runs(data, capsys):
    train(make_model(), toy_loss, data[0], config(max_steps=3, progress=True))
    err = capsys.readouterr().err
    assert "tok_s" in err and "3/3" in err and "step/s" in err


def test_under_early_stopping_the_bar_counts_evaluations_and_ends_where_training_ends(data, capsys):
    shifted = ToyData(60, seed=2, shift=3)
    cfg = config(max_steps=300, eval_every=2, patience=3, lr=3e-2, warmup_steps=1, progress=True)
    result = train(make_model(), toy_loss, data[0], cfg, valid_data=shifted)
    assert result.stopped == "early_stopping" and result.steps < 300
    final = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    evaluations = len(result.history)
    assert f"{evaluations}/{evaluations} [" in final  # full at the stop, not at max_steps / eval_every = 150
    assert "eval/s" in final or "s/eval" in final
    assert "no_better=3/3" in final


def test_config_validation(data):
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp8")
    with pytest.raises(ValueError, match="max_steps or max_epochs"):
        train(make_model(), toy_loss, data[0], config(max_steps=None))


# ---------------------------------------------------------------------------- checkpoints
def _trained(data) -> tuple[ToyModel, torch.optim.Optimizer]:
    module = make_model()
    opt = torch.optim.AdamW(module.parameters(), lr=1e-2)
    loss, weight = toy_loss(module, data[0].collate(np.arange(10), torch.device("cpu")))
    (loss / weight).backward()
    opt.step()
    return module, opt


def test_checkpoint_round_trip(data, tmp_path):
    module, opt = _trained(data)
    meta = {"model": {"dim": 16}, "vocab": ["a", "b"]}
    save_checkpoint(tmp_path / "ck", module, optimizer=opt, train_config=config().to_dict(), metadata=meta)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
    ]
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.config["metadata"] == meta
    assert TrainConfig.from_dict(loaded.config["train_config"]) == config()
    assert_same(loaded.model, weights(module))
    fresh = ToyModel()
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-2)
    assert load_weights(tmp_path / "ck", fresh) == meta
    fresh_opt.load_state_dict(loaded.optimizer)
    assert_same(weights(fresh), weights(module))
    for index, state in opt.state_dict()["state"].items():
        for name, value in state.items():
            assert torch.equal(fresh_opt.state_dict()["state"][index][name], value)
    assert fresh_opt.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_tied_weights_are_saved_once(tmp_path):
    module = ToyModel()
    module.tied = torch.nn.Linear(16, VOCAB, bias=False)
    module.tied.weight = module.embed.weight
    save_checkpoint(tmp_path / "ck", module)
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.config["tied_weights"] == {"tied.weight": "embed.weight"}
    other = ToyModel()
    other.tied = torch.nn.Linear(16, VOCAB, bias=False)
    other.tied.weight = other.embed.weight
    load_weights(tmp_path / "ck", other)
    assert torch.equal(other.tied.weight, module.embed.weight)


def test_failed_save_leaves_the_previous_checkpoint_intact(data, tmp_path, monkeypatch):
    module, opt = _trained(data)
    save_checkpoint(tmp_path / "ck", module, optimizer=opt, metadata={"version": 1})
    before = weights(module)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    real_save, calls = checkpoint.save_file, []

    def failing_save(tensors, filename, *args, **kwargs):
        calls.append(filename)
        if len(calls) == 2:  # the model file is written, the optimizer file is not
            raise OSError("disk full")
        return real_save(tensors, filename, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "save_file", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "ck", module, optimizer=opt, metadata={"version": 2})
    assert len(calls) == 2
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.config["metadata"] == {"version": 1}
    assert_same(loaded.model, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]  # no temporary directory left behind


def test_interrupted_rename_is_recovered(data, tmp_path):
    module, _ = _trained(data)
    save_checkpoint(tmp_path / "last", module)
    (tmp_path / "last").rename(tmp_path / ".last.old-123")  # as if killed between the two renames
    assert checkpoint.recover_interrupted(tmp_path / "last")
    assert_same(load_checkpoint(tmp_path / "last").model, weights(module))


def test_load_errors_name_the_file(data, tmp_path):
    module, _ = _trained(data)
    save_checkpoint(tmp_path / "ck", module)
    with pytest.raises(ValueError, match=r"model\.safetensors.*shape mismatch for \[embed\.weight: \(16, 16\)"):
        load_weights(tmp_path / "ck", ToyModel(dim=8))
    bigger = ToyModel()
    bigger.extra = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"model\.safetensors.*missing keys \[extra\.weight, extra\.bias\]"):
        load_weights(tmp_path / "ck", bigger)
    with pytest.raises(FileNotFoundError, match="no checkpoint directory"):
        load_checkpoint(tmp_path / "nowhere")
    (tmp_path / "ck" / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=r"model\.safetensors is corrupt"):
        load_checkpoint(tmp_path / "ck")
    (tmp_path / "ck" / "config.json").write_text("{")
    with pytest.raises(ValueError, match=r"config\.json is corrupt"):
        load_checkpoint(tmp_path / "ck")


def test_loading_never_unpickles(data, tmp_path, monkeypatch):
    train(
        make_model(), toy_loss, data[0], config(max_steps=4, eval_every=2), valid_data=data[1], checkpoint_dir=tmp_path
    )

    def no_pickle(*args, **kwargs):
        raise AssertionError("torch.load must not be used")

    monkeypatch.setattr(torch, "load", no_pickle)
    for name in ("last", "best"):
        assert {p.suffix for p in (tmp_path / name).iterdir()} <= {".json", ".safetensors"}
        json.loads((tmp_path / name / "config.json").read_text())
        load_weights(tmp_path / name, ToyModel())


# ---------------------------------------------------------------------------- resume
class Interrupt(Exception):
    pass


def _stop_at(step: int):
    def callback(state: TrainState) -> None:
        if state.step == step:
            raise Interrupt

    return callback


@pytest.mark.parametrize("how", ["exception", "max_steps"])
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(data, tmp_path, how):
    train_data, valid_data = data
    # ~12 batches per epoch: 30 steps cross two epoch boundaries; checkpoints at 4, 8, ...
    cfg = config(max_steps=30, eval_every=3, checkpoint_every=4, max_tokens=128)
    full = make_model()
    expected = train(full, toy_loss, train_data, cfg, valid_data=valid_data, checkpoint_dir=tmp_path / "full")

    module = make_model()
    if how == "exception":
        with pytest.raises(Interrupt):
            train(
                module,
                toy_loss,
                train_data,
                cfg,
                valid_data=valid_data,
                checkpoint_dir=tmp_path / "cut",
                callback=_stop_at(14),
            )
        assert load_checkpoint(tmp_path / "cut" / "last").config["trainer"]["step"] == 12
    else:
        short = dataclasses.replace(cfg, max_steps=13)
        train(module, toy_loss, train_data, short, valid_data=valid_data, checkpoint_dir=tmp_path / "cut")
    resumed_module = make_model()  # a fresh process would start from a fresh module
    resumed = train(resumed_module, toy_loss, train_data, cfg, valid_data=valid_data, checkpoint_dir=tmp_path / "cut")

    assert_same(load_checkpoint(tmp_path / "cut" / "last").model, load_checkpoint(tmp_path / "full" / "last").model)
    assert resumed.steps == expected.steps == 30 and resumed.tokens == expected.tokens

    def drop_timing(history):
        return [{k: v for k, v in h.items() if k not in ("elapsed", "tokens_per_second")} for h in history]

    if how == "exception":
        assert_same(weights(resumed_module), weights(full))  # the best weights
        assert (resumed.best_step, resumed.best_valid_loss) == (expected.best_step, expected.best_valid_loss)
        assert drop_timing(resumed.history) == drop_timing(expected.history)
    else:  # stopping at max_steps added a final evaluation at step 13, so the history has one more entry
        assert [h["step"] for h in resumed.history] == sorted([13] + [h["step"] for h in expected.history])


def test_resume_refuses_a_changed_batch_plan(data, tmp_path):
    cfg = config(max_steps=6, checkpoint_every=3)
    train(make_model(), toy_loss, data[0], cfg, checkpoint_dir=tmp_path)
    fewer = ToyData(150, seed=1)  # other sequences: the epoch's batches differ
    with pytest.raises(ValueError, match=r"cannot resume .*the batch plan"):
        train(make_model(), toy_loss, fewer, config(max_steps=12, checkpoint_every=3), checkpoint_dir=tmp_path)


def test_resume_refuses_a_changed_data_order(data, tmp_path):
    train(make_model(), toy_loss, data[0], config(max_steps=4, checkpoint_every=2), checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="seed"):
        train(make_model(), toy_loss, data[0], config(max_steps=8, seed=1), checkpoint_dir=tmp_path)
    result = train(make_model(), toy_loss, data[0], config(max_steps=6, seed=1), checkpoint_dir=tmp_path, resume=False)
    assert result.steps == 6


def test_resume_dropout_rng_is_restored(tmp_path, data):
    class Dropped(ToyModel):
        def __init__(self):
            super().__init__()
            self.drop = torch.nn.Dropout(0.3)

        def forward(self, tokens):
            return self.out(self.drop(self.norm(self.embed(tokens))))

    cfg = config(max_steps=10, checkpoint_every=3)
    torch.manual_seed(0)
    full = Dropped()
    train(full, toy_loss, data[0], cfg)
    torch.manual_seed(0)
    cut = Dropped()
    with pytest.raises(Interrupt):
        train(cut, toy_loss, data[0], cfg, checkpoint_dir=tmp_path, callback=_stop_at(5))
    torch.manual_seed(0)
    resumed = Dropped()
    train(resumed, toy_loss, data[0], cfg, checkpoint_dir=tmp_path)
    assert_same(weights(resumed), weights(full))


def test_block_batches_cover_the_epoch_one_block_after_another():
    lengths = np.random.default_rng(1).integers(1, 30, 1000)
    batches = epoch_batches(lengths, 64, seed=3, epoch=2, block=128)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))  # every sequence once
    blocks = [int(b[0]) // 128 for b in batches]
    assert all(len({int(i) // 128 for i in b}) == 1 for b in batches)  # a batch within one block
    runs = [k for i, k in enumerate(blocks) if i == 0 or k != blocks[i - 1]]
    assert sorted(runs) == list(range(8))  # a block's batches come together, blocks in a shuffled order
    assert runs != sorted(runs)
    again = epoch_batches(lengths, 64, seed=3, epoch=2, block=128)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    whole = epoch_batches(lengths, 64, seed=3, epoch=2, block=5000)  # one block: the plain shuffle
    plain = epoch_batches(lengths, 64, seed=3, epoch=2)
    assert all(np.array_equal(a, b) for a, b in zip(whole, plain, strict=True))
    with pytest.raises(ValueError, match="block must be at least 1"):
        epoch_batches(lengths, 64, seed=3, epoch=2, block=0)


def test_an_epoch_plan_forms_one_block_at_a_time_and_shards_lazily():
    lengths = np.random.default_rng(4).integers(1, 30, 1000)
    plan = epoch_batches(lengths, 64, seed=3, epoch=1, block=100)
    assert isinstance(plan, EpochPlan)
    whole = list(plan)
    assert sorted(np.concatenate(whole).tolist()) == list(range(1000))
    assert all(np.array_equal(plan[i], whole[i]) for i in (0, len(plan) - 1, -1, 17))
    with pytest.raises(IndexError):
        plan[len(plan)]
    with pytest.raises(TypeError, match="one batch at a time"):
        plan[2:5]
    for world in (1, 2, 3):
        for pad in (True, False):
            views = [shard_batches(plan, DistInfo(rank=r, world_size=world), pad=pad) for r in range(world)]
            lists = [shard_batches(whole, DistInfo(rank=r, world_size=world), pad=pad) for r in range(world)]
            assert all(isinstance(v, ShardView) for v in views)
            assert [[b.tolist() for b in v] for v in views] == [[b.tolist() for b in v] for v in lists]
    # a block's batches are formed from the block's own seed: formed out of order, they are the same
    fresh = epoch_batches(lengths, 64, seed=3, epoch=1, block=100)
    assert np.array_equal(fresh[len(fresh) - 1], whole[-1]) and np.array_equal(fresh[0], whole[0])
