"""Corpora on disk: person-aligned chunks, the streaming vocabulary, the memory-mapped token store, and CAREER
pretrained from it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from cli_errors import error_line

from laborseq.cli import main
from laborseq.models.base import load_model
from laborseq.models.career.model import CAREER
from laborseq.nn.batching import epoch_batches
from laborseq.nn.distributed import DistInfo, shard_batches
from laborseq.nn.encoding import CareerVocabulary
from laborseq.nn.token_store import open_token_store, write_token_store
from laborseq.nn.train_log import TrainingLog
from laborseq.nn.vocabulary_stream import VocabularyBuilder
from laborseq.panel import CareerPanel
from laborseq.panel.chunks import panel_chunks, read_parquet_chunks
from laborseq.synthetic.process import SyntheticCareers


@pytest.fixture(scope="module")
def corpus() -> CareerPanel:
    """Resume-like careers with categorical covariates, birth cohorts, and a many-valued numeric covariate."""
    panel = SyntheticCareers(seed=0).sample(1500, population="resume", rng=1)
    rng = np.random.default_rng(0)
    data = panel.data.assign(tenure=rng.gamma(2.0, 3.0, len(panel)))  # > 32 values: deciles
    data.loc[data.index[::50], "tenure"] = np.nan
    covariates = [*panel.covariates, "tenure"]
    return CareerPanel(data, covariates=covariates, static=panel.static_covariates, scheme=panel.scheme, name="r")


def test_chunks_hold_whole_persons_and_give_back_the_panel(corpus, tmp_path):
    chunks = list(panel_chunks(corpus, 700))
    assert len(chunks) > 10 and all(len(c) <= 700 or c.n_persons == 1 for c in chunks)
    assert sum(c.n_persons for c in chunks) == corpus.n_persons
    pd.testing.assert_frame_equal(pd.concat([c.data for c in chunks], ignore_index=True), corpus.data)
    path = corpus.to_parquet(tmp_path / "c.parquet")
    read = list(read_parquet_chunks(path, 333))
    assert sum(c.n_persons for c in read) == corpus.n_persons
    assert len({p for c in read for p in c.persons}) == corpus.n_persons  # no person split between chunks
    joined = pd.concat([c.data for c in read], ignore_index=True)
    pd.testing.assert_frame_equal(joined, CareerPanel.read_parquet(path).data)


def test_the_streaming_vocabulary_is_the_whole_panels(corpus):
    builder = VocabularyBuilder()
    for chunk in panel_chunks(corpus, 900):
        builder.add(chunk)
    assert builder.finish().to_dict() == CareerVocabulary.fit(corpus).to_dict()
    kinds = {v.name: v.kind for v in builder.finish().inputs}
    assert kinds["tenure"] == "binned" and kinds["birth_year"] == "cohort" and kinds["gender"] == "categorical"


def test_a_sampled_vocabulary_bins_with_the_corpus_quantiles(corpus):
    builder = VocabularyBuilder(sample_size=2000, seed=1)  # fewer than the corpus's rows: a reservoir sample
    for chunk in panel_chunks(corpus, 900):
        builder.add(chunk)
    edges = next(v for v in builder.finish().inputs if v.name == "tenure").edges
    exact = next(v for v in CareerVocabulary.fit(corpus).inputs if v.name == "tenure").edges
    assert len(edges) == len(exact) and np.allclose(edges, exact, rtol=0.15)


def test_the_store_gives_the_batches_of_the_encoded_panel(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store", max_rows=800)
    assert store.n_persons == corpus.n_persons and store.n_rows == len(corpus)
    encoded = CareerVocabulary.fit(corpus).encode(corpus)
    np.testing.assert_array_equal(store.lengths(), encoded.lengths())
    rng = np.random.default_rng(0)
    for _ in range(5):
        index = rng.choice(corpus.n_persons, 64, replace=False)
        got, expected = store.collate(index), encoded.collate(index)
        for key in expected:
            assert torch.equal(got[key], expected[key]), key
    assert isinstance(store.encoded.codes, np.memmap)
    from_file = write_token_store(corpus.to_parquet(tmp_path / "c.parquet"), tmp_path / "store2", max_rows=555)
    index = np.arange(corpus.n_persons)
    for key, value in from_file.collate(index).items():
        assert torch.equal(value, store.collate(index)[key]), key
    subset = store.subset(np.array([5, 9]))
    np.testing.assert_array_equal(subset.lengths(), store.lengths()[[5, 9]])
    assert torch.equal(subset.collate(np.array([1]))["targets"], store.collate(np.array([9]))["targets"])


def test_a_damaged_or_missing_store_is_refused(corpus, tmp_path):
    store = write_token_store(corpus.sample_persons(50, rng=0), tmp_path / "s")
    with open(store.path / "codes.bin", "ab") as handle:
        handle.write(b"\0\0\0\0")
    with pytest.raises(ValueError, match=r"codes.bin: \d+ bytes, but the manifest says \d+; the store is damaged"):
        open_token_store(store.path)
    with pytest.raises(FileNotFoundError, match="not a token store"):
        open_token_store(tmp_path)


def test_ranks_read_disjoint_batches_that_cover_the_epoch(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store")
    batches = epoch_batches(store.lengths(), 2000, seed=3, epoch=1)
    for world in (2, 3):
        shards = [shard_batches(batches, DistInfo(rank=r, world_size=world, local_rank=r)) for r in range(world)]
        assert len({len(s) for s in shards}) == 1  # every rank makes the same number of steps
        unpadded = [
            shard_batches(batches, DistInfo(rank=r, world_size=world, local_rank=r), pad=False) for r in range(world)
        ]
        persons = [np.concatenate(s) for s in unpadded]
        for a in range(world):
            for b in range(a + 1, world):
                assert not set(persons[a]) & set(persons[b])  # disjoint
        assert sorted(np.concatenate(persons)) == list(range(store.n_persons))  # and together the epoch
        repeated = sum(len(s) for s in shards) - len(batches)
        assert 0 <= repeated < world  # padding repeats at most world - 1 batches


def test_career_pretrains_on_a_store_and_fine_tunes_on_a_survey(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store")
    model = CAREER.preset("small", max_steps=15, patience=None).fit(store, rng=0)
    again = CAREER.preset("small", max_steps=15, patience=None).fit(str(store.path), rng=0)
    for a, b in zip(model.net_.state_dict().values(), again.net_.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the directory or the opened store: the same run
    assert model.classes_ == tuple(corpus.states) and model.training_["steps"] == 15
    proba = model.predict_proba(corpus.sample_persons(20, rng=1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m")
    survey = SyntheticCareers(seed=0).sample(200, population="survey", rng=2)
    tuned = CAREER.preset("small", pretrained=str(tmp_path / "m"), finetune_max_steps=5).fit(survey, rng=0)
    assert tuned.training_["stage"] == "fine-tune" and load_model(tmp_path / "m").classes_ == model.classes_
    with pytest.raises(ValueError, match="the store encodes covariates"):
        CAREER.preset("small", covariates=("gender",)).fit(store)
    with pytest.raises(ValueError, match="weights= applies to a panel"):
        CAREER.preset("small").fit(store, weights="weight")


def test_laborseq_pretrain_writes_the_store_and_the_model(corpus, tmp_path, capsys):
    path = corpus.to_parquet(tmp_path / "resumes.parquet")
    store, out = tmp_path / "store", tmp_path / "model"
    argv = ["pretrain", "--data", str(path), "--store", str(store), "--out", str(out), "--career-max-steps", "4"]
    assert main([*argv, "--max-rows", "999", "--quiet"]) == 0
    assert "pretrained small CAREER: 4 updates" in capsys.readouterr().out
    assert open_token_store(store).n_persons == corpus.n_persons
    assert isinstance(load_model(out), CAREER)
    reuse = ["pretrain", "--store", str(store), "--out", str(tmp_path / "m2"), "--career-max-steps", "2", "--quiet"]
    assert main(reuse) == 0
    assert main(["pretrain", "--store", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "no token store there; give --data" in capsys.readouterr().err


def test_pretrain_store_only_precision_and_torchrun(corpus, tmp_path, capsys, monkeypatch):
    path = corpus.to_parquet(tmp_path / "resumes.parquet")
    store = tmp_path / "store"
    assert main(["pretrain", "--data", str(path), "--store", str(store), "--store-only"]) == 0
    assert open_token_store(store).n_persons == corpus.n_persons and not (tmp_path / "model").exists()
    argv = ["pretrain", "--store", str(store), "--out", str(tmp_path / "model"), "--career-max-steps", "2"]
    assert main([*argv, "--precision", "fp32", "--max-tokens", "3000", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "tokens/s in fp32 (fp32 as asked, on cpu)" in printed
    assert load_model(tmp_path / "model").training_["config"]["max_tokens"] == 3000
    assert "--out: where to save" in error_line(capsys, ["pretrain", "--store", str(store)])
    assert "needs a CUDA device" in error_line(capsys, [*argv, "--precision", "fp16"])
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    line = error_line(capsys, ["pretrain", "--data", str(path), "--store", str(store), "--out", str(tmp_path / "m")])
    assert "under torchrun every process would write the store" in line and "--store-only" in line


def test_a_long_run_can_be_watched_in_its_log(corpus, tmp_path):
    store = write_token_store(corpus.sample_persons(400, rng=0), tmp_path / "store")
    log_dir = tmp_path / "log"
    model = CAREER.preset("small", max_steps=12, eval_every=5, patience=None, log_dir=str(log_dir)).fit(store, rng=0)
    lines = [json.loads(line) for line in (log_dir / "train_log.jsonl").read_text().splitlines()]
    evaluated = [line for line in lines if line["valid_loss"] is not None]
    assert [line["step"] for line in evaluated] == [h["step"] for h in model.training_["history"]] == [5, 10, 12]
    assert all(np.isfinite(line["loss"]) and line["lr"] > 0 for line in lines)
    assert all(line["tokens_per_second"] > 0 for line in lines[1:])
    with pytest.raises(ValueError, match="every must be at least 1"):
        TrainingLog(log_dir, every=0)


def test_tensorboard_is_an_extra_with_a_clear_error(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install 'laborseq\[tensorboard\]'"):
            TrainingLog(tmp_path, tensorboard=True)
    else:  # pragma: no cover - where the extra is installed
        TrainingLog(tmp_path, tensorboard=True).close()
        assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())


def test_a_store_batches_block_by_block_and_releases_its_pages(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store")
    assert store.batch_block == store.subset(np.arange(10)).batch_block > 0
    index = np.arange(30)
    before = store.collate(index)
    store.release()  # pages leave the process, the data stays
    for key, value in store.collate(index).items():
        assert torch.equal(value, before[key])


def test_the_validation_persons_of_a_store_lie_in_a_few_runs(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store")
    for n_held in (0, 1, 150, 1499):
        rest, held = store.holdout(n_held, seed=4)
        assert held.n_persons == n_held and rest.n_persons == store.n_persons - n_held
        assert len(held.starts) <= 8 and len(rest.starts) <= 9
        together = np.r_[held.store_index(np.arange(held.n_persons)), rest.store_index(np.arange(rest.n_persons))]
        assert sorted(together.tolist()) == list(range(store.n_persons))  # a partition of the persons
    small = write_token_store(corpus.sample_persons(20, rng=0), tmp_path / "small")
    for n_held in (1, 5, 9, 10, 19):  # fewer persons than runs squared: the runs share n_held exactly
        rest, held = small.holdout(n_held, seed=1)
        assert (held.n_persons, rest.n_persons) == (n_held, 20 - n_held)
    a, b, c = (store.holdout(150, seed=s)[1] for s in (4, 4, 5))
    np.testing.assert_array_equal(a.starts, b.starts)
    assert not np.array_equal(a.starts, c.starts)


def test_a_subset_reads_its_runs_without_a_per_person_index(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store")
    persons = np.r_[3:40, 100:101, 500:900, 1000:1490]
    subset = store.subset(persons)
    assert len(subset.starts) == 4 and subset.n_persons == len(persons)
    mask = np.zeros(store.n_persons, dtype=bool)
    mask[persons] = True
    np.testing.assert_array_equal(store.subset(mask).starts, subset.starts)
    lengths = store.lengths()
    np.testing.assert_array_equal(np.asarray(subset.lengths()), lengths[persons])
    np.testing.assert_array_equal(subset.lengths()[30:450], lengths[persons][30:450])  # across runs
    np.testing.assert_array_equal(subset.lengths()[np.array([0, 37, 38, 900])], lengths[persons[[0, 37, 38, 900]]])
    index = np.array([5, 36, 37, 38, 437, 900])
    for key, value in subset.collate(index).items():
        assert torch.equal(value, store.collate(persons[index])[key])
    with pytest.raises(ValueError, match="increasing"):
        store.subset(np.array([5, 3]))


def test_pretraining_from_a_store_resumes_mid_epoch_with_the_same_weights(corpus, tmp_path):
    store = write_token_store(corpus, tmp_path / "store")
    store = dataclasses.replace(store, batch_block=300)  # several blocks: the epoch plan is formed block by block
    params = {"patience": None, "eval_every": 4, "max_tokens": 2000}
    full = CAREER.preset("small", max_steps=14, checkpoint_dir=str(tmp_path / "full"), **params).fit(store, rng=0)
    CAREER.preset("small", max_steps=6, checkpoint_dir=str(tmp_path / "cut"), **params).fit(store, rng=0)
    resumed = CAREER.preset("small", max_steps=14, checkpoint_dir=str(tmp_path / "cut"), **params).fit(store, rng=0)
    assert resumed.training_["steps"] == full.training_["steps"] == 14
    assert full.training_["epochs"] > 1  # the run crossed an epoch boundary
    for a, b in zip(full.net_.state_dict().values(), resumed.net_.state_dict().values(), strict=True):
        assert torch.equal(a, b)
